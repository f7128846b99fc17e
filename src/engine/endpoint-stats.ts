// The supervisor's per-endpoint view (MQTT_ENDPOINTS): the latest per-endpoint counters of every
// shard (endpoint-tallies.ts), summed once per second into the snapshot's `endpoints`, and each
// endpoint's connect latency histogram over the whole run.
import { createHistogram, encodeHistogram, mergeInto, summarize, type Histogram } from '../metrics/hdr.js';
import type { CauseClass, EndpointStats, Percentiles } from '../metrics/snapshot.js';
import { E, E_FIELDS, type EndpointPart } from './endpoint-tallies.js';

export interface EndpointMeta {
  endpoint: string;
  /** Devices of the run on it. */
  devices: number;
}

export class EndpointAggregate {
  private readonly parts: Array<EndpointPart | null>;
  private readonly hist: Histogram[];
  /** summaries of `hist`, recomputed only when a histogram grew */
  private readonly summaries: Array<{ count: number; p: Percentiles }>;

  constructor(
    private readonly meta: readonly EndpointMeta[],
    shards: number,
  ) {
    this.parts = new Array<EndpointPart | null>(shards).fill(null);
    this.hist = meta.map(() => createHistogram());
    this.summaries = meta.map((_, e) => ({ count: -1, p: summarize(this.hist[e]) }));
  }

  apply(shardId: number, part: EndpointPart | undefined): void {
    if (!part) return;
    this.parts[shardId] = part;
    for (let e = 0; e < this.meta.length; e++) if (part.connectMs[e]) mergeInto(this.hist[e], part.connectMs[e]);
  }

  /** The shard is gone: its devices are no longer connected; what it counted stays. */
  crashed(shardId: number): void {
    const p = this.parts[shardId];
    if (!p) return;
    const counters = Float64Array.from(p.counters);
    for (let e = 0; e < this.meta.length; e++) counters[e * E_FIELDS + E.CONNECTED] = 0;
    this.parts[shardId] = { ...p, counters };
  }

  section(): EndpointStats[] {
    return this.meta.map((m, e) => {
      const f = (k: number) => this.parts.reduce((a, p) => a + (p ? p.counters[e * E_FIELDS + k] : 0), 0);
      const byCause: Record<string, number> = {};
      const byClass: Partial<Record<CauseClass, number>> = {};
      for (const p of this.parts) {
        if (!p) continue;
        for (const [c, n] of Object.entries(p.byCause[e])) byCause[c] = (byCause[c] ?? 0) + n;
        for (const [c, n] of Object.entries(p.byClass[e]) as Array<[CauseClass, number]>) byClass[c] = (byClass[c] ?? 0) + n;
      }
      const s = this.summaries[e];
      if (s.count !== this.hist[e].totalCount) [s.count, s.p] = [this.hist[e].totalCount, summarize(this.hist[e])];
      return {
        endpoint: m.endpoint,
        devices: m.devices,
        connected: f(E.CONNECTED),
        attempts: f(E.ATTEMPTS),
        succeeded: f(E.OK),
        failed: f(E.FAILED),
        connectMs: s.p,
        disconnects: { total: f(E.DISCONNECTS), byCause, byClass },
      };
    });
  }

  /** Each endpoint's connect latencies over the run, encoded (null = none), for the report's histograms. */
  encoded(): Array<string | null> {
    return this.hist.map((h) => (h.totalCount ? encodeHistogram(h) : null));
  }
}
