// Time-series read-back with ThingsBoard's semantics (docs/thingsboard-api.md#reading-time-series): latest or history,
// half-open [startTs, endTs), string values, empty keys omitted, bucketed aggregation ≤ 700 buckets.
import { PlainError, type Device } from './model.js';
import type { Store } from './store.js';

export type Agg = 'NONE' | 'MIN' | 'MAX' | 'AVG' | 'SUM' | 'COUNT';

export interface TsQuery {
  keys?: string[];
  startTs?: number;
  endTs?: number;
  /** Bucket size, ms; 0 = no aggregation whatever `agg` says. */
  interval: number;
  agg: Agg;
  /** Raw points per key when not aggregating (ThingsBoard default 100). */
  limit: number;
  orderBy: 'ASC' | 'DESC';
  useStrictDataTypes: boolean;
}

export type TsPoint = { ts: number; value: unknown };

const MAX_INTERVALS = 700;

export function formatValue(v: unknown, strict: boolean): unknown {
  if (strict) return v;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function aggregate(agg: Exclude<Agg, 'NONE' | 'COUNT'>, values: unknown[]): number | undefined {
  const nums = values.map(Number).filter((n) => Number.isFinite(n));
  if (nums.length === 0) return undefined;
  if (agg === 'MIN') return Math.min(...nums);
  if (agg === 'MAX') return Math.max(...nums);
  const sum = nums.reduce((a, b) => a + b, 0);
  return agg === 'SUM' ? sum : sum / nums.length;
}

/** Reads the device's time series; throws PlainError (400 text) like ThingsBoard on bad ranges. */
export function readTimeseries(store: Store, d: Device, q: TsQuery): Record<string, TsPoint[]> {
  const out: Record<string, TsPoint[]> = {};
  if (q.startTs === undefined || q.endTs === undefined) {
    for (const [k, p] of store.latest(d, q.keys)) out[k] = [{ ts: p.ts, value: formatValue(p.value, q.useStrictDataTypes) }];
    return out;
  }
  const { startTs, endTs } = q;
  const keys = q.keys ?? [...store.latest(d).keys()];
  const aggregating = q.agg !== 'NONE' && q.interval > 0;
  if (aggregating) {
    const buckets = Math.floor((endTs - startTs) / Math.max(q.interval, 1000));
    if (buckets > MAX_INTERVALS) {
      throw new PlainError(400, `Incorrect TsKvQuery. Number of intervals is to high - ${buckets}. Please increase 'interval' parameter for your query or reduce the time range of the query.`);
    }
  }
  const dir = q.orderBy === 'ASC' ? 1 : -1;
  for (const key of keys) {
    let points: TsPoint[];
    if (!aggregating) {
      points = d.state.history.recent(key, startTs, endTs);
      if (dir === 1) points.reverse();
      points = points.slice(0, q.limit).map((p) => ({ ts: p.ts, value: formatValue(p.value, q.useStrictDataTypes) }));
    } else if (q.agg === 'COUNT') {
      const counts = d.state.history.countBuckets(key, store.keysets.containing(key), startTs, endTs, q.interval);
      points = [...counts].map(([b, n]) => ({ ts: midpoint(startTs, endTs, q.interval, b), value: q.useStrictDataTypes ? n : String(n) }));
    } else {
      const byBucket = new Map<number, unknown[]>();
      for (const p of d.state.history.recent(key, startTs, endTs)) {
        const b = Math.floor((p.ts - startTs) / q.interval);
        byBucket.set(b, [...(byBucket.get(b) ?? []), p.value]);
      }
      points = [];
      for (const [b, vals] of byBucket) {
        const v = aggregate(q.agg as 'MIN' | 'MAX' | 'AVG' | 'SUM', vals);
        if (v !== undefined) points.push({ ts: midpoint(startTs, endTs, q.interval, b), value: formatValue(v, q.useStrictDataTypes) });
      }
    }
    if (aggregating) points.sort((a, b) => dir * (a.ts - b.ts));
    if (points.length) out[key] = points;
  }
  return out;
}

function midpoint(startTs: number, endTs: number, interval: number, bucket: number): number {
  const from = startTs + bucket * interval;
  const to = Math.min(from + interval, endTs);
  return from + Math.floor((to - from) / 2);
}
