// When calls are due and to which device: an open-model schedule (call k is due at origin + k/rate,
// whether or not earlier calls have returned, so a slow server cannot slow the lab down and hide
// its latency: coordinated omission) and a round-robin over the rows whose session is ready.
import type { DeviceLinks } from './overlay.js';

export class CallSchedule {
  private origin = -1;
  private issued = 0;
  private readonly gapMs: number;

  /** @param perSec calls per second (0 = none). */
  constructor(perSec: number) {
    this.gapMs = perSec > 0 ? 1000 / perSec : Infinity;
  }

  get started(): boolean {
    return this.origin >= 0;
  }

  /** Calls `fire(intendedAt)` for every call due by `now`; the first call starts the clock. */
  run(now: number, fire: (intendedAt: number) => void): void {
    if (this.gapMs === Infinity) return;
    if (this.origin < 0) this.origin = now;
    for (let at = this.origin + this.issued * this.gapMs; at <= now; at = this.origin + this.issued * this.gapMs) {
      this.issued++;
      fire(at);
    }
  }
}

/** Round-robin over rows 0..n-1 that are ready (session up, subscriptions granted). */
export class ReadyRing {
  private next = 0;

  constructor(
    private readonly n: number,
    private readonly links: Pick<DeviceLinks, 'ready'>,
  ) {}

  /** The next ready row, or -1 when none is. */
  pick(): number {
    for (let k = 0; k < this.n; k++) {
      const i = (this.next + k) % this.n;
      if (this.links.ready(i)) {
        this.next = (i + 1) % this.n;
        return i;
      }
    }
    return -1;
  }
}

/** The `k` in a JSON payload `{"params":{"k":…}}` or `{"k":…}` written by the lab; null when absent or not JSON. */
export function callKey(payload: string, under: 'params' | 'top' | string): number | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = (under === 'top' ? v : (v as Record<string, unknown>)[under]) as Record<string, unknown> | undefined;
  const k = o && typeof o === 'object' ? o.k : undefined;
  return typeof k === 'number' && Number.isInteger(k) ? k : null;
}
