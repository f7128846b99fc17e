// Generator health: did the lab itself keep up? Schedule lag (actual − intended send time) and
// event-loop delay of the shards decide a verdict, with notes an operator can act on.
import type { MetricsSnapshot } from './snapshot.js';

/** Schedule-lag p99 above this means sends were noticeably late, ms. */
export const LAG_LAGGING_MS = 50;
/** Above this the generator was overloaded: its rates are lower bounds, not the server's limit. */
export const LAG_OVERLOADED_MS = 1000;

export interface HealthInput {
  scheduleLagP99Ms: number | null;
  /** worst shard event-loop delay p99 this second, ms */
  eventLoopDelayP99Ms: number | null;
  /** seconds in which some shard's lag p99 exceeded LAG_LAGGING_MS */
  secondsBehind: number;
  /** seconds in which some shard used ≥ 95 % of a core */
  secondsSaturated: number;
  cpuPercent: number | null;
  rssMB: number;
  crashedShards: number;
  /** Further notes to pass through (supervisor observations). */
  notes?: readonly string[];
}

export function generatorHealth(h: HealthInput): MetricsSnapshot['generator'] {
  const notes: string[] = [];
  let verdict: MetricsSnapshot['generator']['verdict'] = 'ok';
  const lag = h.scheduleLagP99Ms;
  if (lag !== null && lag > LAG_OVERLOADED_MS) {
    verdict = 'overloaded';
    notes.push(
      `schedule lag p99 ${lag} ms: the generator could not send on time; measured rates are what the lab managed, not the server's limit. Use more shards/machines or fewer devices.`,
    );
  } else if (lag !== null && lag > LAG_LAGGING_MS) {
    verdict = 'lagging';
    notes.push(`schedule lag p99 ${lag} ms (> ${LAG_LAGGING_MS} ms): sends were late at times.`);
  }
  if (h.secondsBehind > 0) notes.push(`${h.secondsBehind} s with a shard's schedule lag p99 above ${LAG_LAGGING_MS} ms.`);
  if (h.secondsSaturated >= 5) {
    if (verdict === 'ok') verdict = 'lagging';
    notes.push(`${h.secondsSaturated} s with a shard at ≥ 95 % of a core: add shards (SHARDS) or machines (INSTANCE).`);
  }
  if (h.crashedShards > 0) notes.push(`${h.crashedShards} shard process(es) crashed; their devices stopped at that moment.`);
  if (h.notes) notes.push(...h.notes);
  return {
    verdict,
    eventLoopDelayP99Ms: h.eventLoopDelayP99Ms,
    scheduleLagP99Ms: lag,
    cpuPercent: h.cpuPercent,
    rssMB: h.rssMB,
    notes,
  };
}
