// The engine's one clock: epoch milliseconds with sub-ms precision from the monotonic timer, so
// latencies never jump with wall-clock corrections and shards agree on the schedule's origin.
// Every time the shard compares (schedule, timeouts, backoff, event stamps) comes from one
// injected `Clock`, so its state machine runs under a fake clock in unit tests.
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds since the epoch, sub-ms precision, never going backwards. */
  now(): number;
}

const origin = performance.timeOrigin;

export function nowMs(): number {
  return origin + performance.now();
}

export const systemClock: Clock = { now: nowMs };
