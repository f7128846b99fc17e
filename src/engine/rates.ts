// Rates from whole seconds: each shard's counters over the shard's own clock, and the final
// report's rates over the seconds under load. A rate over a partial second (the final snapshot
// came 0.2 s after the last one) would report five times the real load.
import { C } from './counters.js';

/** A shard interval shorter than this (its final, partial second) gives no rate: the next one spans it. */
export const MIN_RATE_INTERVAL_MS = 750;

/** The numbers of one shard snapshot for its metrics CSV. */
export interface ShardSecond {
  ackP99Ms: number | null;
  scheduleLagP99Ms: number | null;
  /** The shard's rates over its last whole second; null for a final partial one. */
  sentPerSec: number | null;
  ackedPerSec: number | null;
}

export interface Rates {
  sent: number;
  acked: number;
  failed: number;
  mbps: number;
}

/** One shard's rates: counters at the start of its current interval, and its last whole-second rates. */
export class ShardRates {
  last: Rates = { sent: 0, acked: 0, failed: 0, mbps: 0 };
  private base: { at: number; sent: number; acked: number; failed: number; bytes: number };

  constructor(startedAt: number) {
    this.base = { at: startedAt, sent: 0, acked: 0, failed: 0, bytes: 0 };
  }

  /** New rates when a whole second has passed on the shard's clock, else null (the last ones stay). */
  update(at: number, c: Float64Array, final: boolean): Rates | null {
    const b = this.base,
      dt = at - b.at;
    if (final || dt < MIN_RATE_INTERVAL_MS) return null;
    const sec = dt / 1000;
    this.last = {
      sent: round1((c[C.SENT] - b.sent) / sec),
      acked: round1((c[C.ACKED] - b.acked) / sec),
      failed: round1((c[C.FAILED] - b.failed) / sec),
      mbps: round3(((c[C.BYTES] - b.bytes) * 8) / 1e6 / sec),
    };
    this.base = { at, sent: c[C.SENT], acked: c[C.ACKED], failed: c[C.FAILED], bytes: c[C.BYTES] };
    return this.last;
  }
}

export const round1 = (x: number) => Math.round(x * 10) / 10;
export const round3 = (x: number) => Math.round(x * 1000) / 1000;

export interface RunRates {
  sentPerSec: number;
  ackedPerSec: number;
  mbpsOut: number;
}

/** The final snapshot's rates: totals over the seconds under load (not the last, partial second). */
export function overRun(loadSec: number, sent: number, acked: number, bytes: number): RunRates {
  if (loadSec <= 0) return { sentPerSec: 0, ackedPerSec: 0, mbpsOut: 0 };
  return { sentPerSec: round1(sent / loadSec), ackedPerSec: round1(acked / loadSec), mbpsOut: round3((bytes * 8) / 1e6 / loadSec) };
}
