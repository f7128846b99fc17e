// The engine's one clock: epoch milliseconds with sub-ms precision from the monotonic timer, so
// latencies never jump with wall-clock corrections and shards agree on the schedule's origin.
import { performance } from 'node:perf_hooks';

const origin = performance.timeOrigin;

export function nowMs(): number {
  return origin + performance.now();
}
