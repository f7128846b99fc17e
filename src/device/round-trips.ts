// The measurements of one workload in one shard: named cumulative counters, failure causes, and
// named HDR histograms of latencies (src/metrics/hdr.ts) taken against each call's intended send
// time. `stats()` hands them to the shard snapshot: counters as totals so far, histograms for the
// interval since the previous call (then reset), so the supervisor adds them up exactly.
import { createHistogram, encodeHistogram, recordMs, type Histogram } from '../metrics/hdr.js';

/** What one workload of one shard ships in each snapshot (`ShardSnapshot.workloads[name]`). */
export interface WorkloadStats {
  /** Cumulative counters, e.g. `sent`, `answered`, `timeouts`, `failed`, `inFlight` (a gauge). */
  counters: Record<string, number>;
  /** Cumulative count per cause of the calls that did not end answered (`408 timeout`, `ECONNREFUSED`…). */
  byCause: Record<string, number>;
  /** Encoded HDR histograms of this interval only, by name (`latencyMs` is the primary one); empty ones left out. */
  hist: Record<string, string>;
}

export class RoundTrips<C extends string, H extends string> {
  readonly count: Record<C, number>;
  readonly byCause: Record<string, number> = {};
  private readonly hists: Record<H, Histogram>;

  constructor(counters: readonly C[], histograms: readonly H[]) {
    this.count = Object.fromEntries(counters.map((c) => [c, 0])) as Record<C, number>;
    this.hists = Object.fromEntries(histograms.map((h) => [h, createHistogram()])) as Record<H, Histogram>;
  }

  cause(text: string): void {
    this.byCause[text] = (this.byCause[text] ?? 0) + 1;
  }

  record(h: H, ms: number): void {
    recordMs(this.hists[h], ms);
  }

  stats(): WorkloadStats {
    const hist: Record<string, string> = {};
    for (const name of Object.keys(this.hists) as H[]) {
      const h = this.hists[name];
      if (h.totalCount === 0) continue;
      hist[name] = encodeHistogram(h);
      h.reset();
    }
    return { counters: { ...this.count }, byCause: { ...this.byCause }, hist };
  }
}
