// A workload's meter in a shard: the counters and histograms it reports through the stats channel
// (src/metrics/workload-stats.ts). The workload counts into plain fields on its own I/O events
// (`meter.counters.answered++`, `recordMs(meter.hist.latencyMs, ms)`: no allocation, no call per
// message); the shard takes one share per snapshot, once a second.
import { createHistogram, encodeHistogram, type Histogram } from './hdr.js';
import { WORKLOAD_STATS, type WorkloadStatsPart } from './workload-stats.js';
import type { WorkloadName } from '../common/workloads.js';

export class WorkloadMeter {
  /** Cumulative counters (gauges: set to the current value), every counter of the workload's def at 0. */
  readonly counters: Record<string, number> = {};
  /** This interval's histograms (ms) by name, every histogram of the def. */
  readonly hist: Record<string, Histogram> = {};
  /** Cumulative failures by cause text (a timeout's kind, an HTTP status…). */
  readonly byCause: Record<string, number> = {};
  /** Intended time of the first call, ms since epoch (0 = none yet): set by workloads that are not rows (rpc, attributes). */
  firstAt = 0;

  constructor(readonly name: WorkloadName) {
    const def = WORKLOAD_STATS[name];
    for (const c of Object.keys(def.counters)) this.counters[c] = 0;
    for (const h of Object.keys(def.histograms)) this.hist[h] = createHistogram();
  }

  /** Counts `n` failures of `cause` (not per message on the hot path: a cause is a string key). */
  cause(cause: string, n = 1): void {
    this.byCause[cause] = (this.byCause[cause] ?? 0) + n;
  }

  /** This snapshot's share: counters as they stand, histograms encoded and started over. */
  take(): WorkloadStatsPart {
    const hist: Record<string, string> = {};
    for (const [k, h] of Object.entries(this.hist)) {
      hist[k] = encodeHistogram(h);
      h.reset();
    }
    const part: WorkloadStatsPart = { counters: { ...this.counters }, hist };
    if (Object.keys(this.byCause).length) part.byCause = { ...this.byCause };
    if (this.firstAt > 0) part.firstAt = this.firstAt;
    return part;
  }
}
