// What a shard counts per MQTT endpoint (MQTT_ENDPOINTS): connect attempts and outcomes, devices
// connected, connect latency and disconnect causes of the devices on each endpoint. Recorded next
// to the shard-wide tallies (tallies.ts) from the same calls; merged by the supervisor
// (endpoint-stats.ts) into the snapshot's `endpoints`.
import { createHistogram, encodeHistogram, recordMs, type Histogram } from '../metrics/hdr.js';
import type { CauseClass } from '../metrics/snapshot.js';
import { endpointKey, endpointOf } from '../common/endpoints.js';

/** Fields per endpoint: cumulative counters, and the CONNECTED gauge recomputed for every snapshot. */
export const E = { ATTEMPTS: 0, OK: 1, FAILED: 2, DISCONNECTS: 3, CONNECTED: 4 } as const;
export const E_FIELDS = 5;

/** One shard snapshot's per-endpoint share, endpoint e at index e. */
export interface EndpointPart {
  /** E_FIELDS per endpoint. */
  counters: Float64Array;
  /** Connect latencies of this interval, encoded HDR ('' = none). */
  connectMs: string[];
  /** Cumulative. */
  byCause: Array<Record<string, number>>;
  byClass: Array<Partial<Record<CauseClass, number>>>;
}

export class EndpointTallies {
  /** Endpoint of each row. */
  private readonly of: Uint16Array;
  private readonly c: Float64Array;
  private readonly hist: Histogram[];
  private readonly byCause: Array<Record<string, number>>;
  private readonly byClass: Array<Partial<Record<CauseClass, number>>>;

  constructor(
    devices: readonly { index: number; gateway?: { index: number } }[],
    readonly k: number,
  ) {
    this.of = Uint16Array.from(devices, (d) => endpointOf(endpointKey(d), k));
    this.c = new Float64Array(k * E_FIELDS);
    this.hist = Array.from({ length: k }, () => createHistogram());
    this.byCause = Array.from({ length: k }, () => ({}));
    this.byClass = Array.from({ length: k }, () => ({}));
  }

  attempt(i: number): void {
    this.c[this.of[i] * E_FIELDS + E.ATTEMPTS]++;
  }

  connected(i: number, ms: number): void {
    const e = this.of[i];
    this.c[e * E_FIELDS + E.OK]++;
    recordMs(this.hist[e], ms);
  }

  /** A connection of row i failed before it was up (`connecting`) or dropped. */
  failed(i: number, cause: string, cls: CauseClass, connecting: boolean): void {
    const e = this.of[i];
    if (connecting) this.c[e * E_FIELDS + E.FAILED]++;
    this.c[e * E_FIELDS + E.DISCONNECTS]++;
    const byCause = this.byCause[e];
    const byClass = this.byClass[e];
    byCause[cause] = (byCause[cause] ?? 0) + 1;
    byClass[cls] = (byClass[cls] ?? 0) + 1;
  }

  /** The snapshot's share; `up(i)`: row i is connected now. Interval histograms start over. */
  take(up: (i: number) => boolean): EndpointPart {
    for (let e = 0; e < this.k; e++) this.c[e * E_FIELDS + E.CONNECTED] = 0;
    for (let i = 0; i < this.of.length; i++) if (up(i)) this.c[this.of[i] * E_FIELDS + E.CONNECTED]++;
    const connectMs = this.hist.map((h) => {
      if (!h.totalCount) return '';
      const s = encodeHistogram(h);
      h.reset();
      return s;
    });
    return {
      counters: Float64Array.from(this.c),
      connectMs,
      byCause: this.byCause.map((m) => ({ ...m })),
      byClass: this.byClass.map((m) => ({ ...m })),
    };
  }
}
