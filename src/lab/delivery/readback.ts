// Reading back what ThingsBoard stored through its own REST API (docs/thingsboard-behaviour.md#reading-time-series): the
// number of `sequence` points in a window (agg=COUNT, one bucket), and the values themselves
// page by page (orderBy=ASC, limit) for exact gaps and duplicates.
import type { TbClient } from '../../thingsboard/client.js';
import type { StoredPoint } from './analyze.js';
import { publishedAtMs } from '../../common/published-at.js';

/** Half-open window [startTs, endTs), ms, as ThingsBoard's SQL range. */
export interface Window {
  startTs: number;
  endTs: number;
}

type TsReply = Record<string, { ts: number; value: unknown }[] | undefined>;

const path = (id: string) => `/api/plugins/telemetry/DEVICE/${encodeURIComponent(id)}/values/timeseries`;

/** Stored `sequence` points of the device in the window (0 when the key is absent). */
export async function countStored(client: TbClient, id: string, w: Window): Promise<number> {
  const r = await client.get<TsReply>(path(id), {
    keys: 'sequence',
    startTs: w.startTs,
    endTs: w.endTs,
    agg: 'COUNT',
    // one bucket over the whole window; interval 0 would silently mean "no aggregation"
    interval: Math.max(1, w.endTs - w.startTs),
    useStrictDataTypes: true,
  });
  let n = 0;
  for (const p of r.sequence ?? []) n += Number(p.value);
  return n;
}

/** Points per page of the raw history. */
export const PAGE_LIMIT = 1000;

/**
 * Every stored `sequence` point of the device in the window with its payload `timestamp`, oldest
 * first. Stops after `maxPoints` (a runaway guard); `complete` says whether the end was reached.
 */
export async function readSequences(
  client: TbClient,
  id: string,
  w: Window,
  maxPoints: number,
): Promise<{ points: StoredPoint[]; complete: boolean }> {
  const points: StoredPoint[] = [];
  let from = w.startTs;
  while (points.length < maxPoints) {
    const r = await client.get<TsReply>(path(id), {
      keys: 'sequence,timestamp',
      startTs: from,
      endTs: w.endTs,
      limit: PAGE_LIMIT,
      orderBy: 'ASC',
      useStrictDataTypes: true,
    });
    const seq = r.sequence ?? [];
    const published = new Map<number, number>();
    for (const p of r.timestamp ?? []) published.set(p.ts, publishedAtMs(p.value));
    for (const p of seq)
      points.push({ ts: p.ts, seq: Number(p.value), ...(published.has(p.ts) ? { publishedAt: published.get(p.ts) } : {}) });
    if (seq.length < PAGE_LIMIT) return { points, complete: true };
    // the server keeps one point per (key, ts): the next page starts after the last ts
    from = seq[seq.length - 1].ts + 1;
  }
  return { points, complete: false };
}
