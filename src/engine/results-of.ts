// The engine's results of a run so far (a checkpoint) or of the whole run, read from the
// aggregator. Apart from the supervisor, which owns processes, timers and files, so that the
// supervisor's scale benchmark (bench/supervisor-scale.ts) runs exactly this code without shards.
import type { MetricsSnapshot } from '../metrics/snapshot.js';
import type { RunOutcome, RunResults } from '../metrics/records.js';
import type { Aggregator } from './aggregate.js';
import type { InterimResults } from './results.js';

/** What the results are read from. */
export interface ResultsSource {
  runId: string;
  startedAt: number;
  agg: Aggregator;
  workloads: { encoded(): RunResults['histograms']['workloads'] };
  /** Shard ids, in the order of the report's `metrics.shards`. */
  shards: readonly number[];
  files: RunResults['files'];
}

function results(
  s: ResultsSource,
  final: MetricsSnapshot,
  endedAt: number,
  outcome: RunOutcome,
  endReason: string,
  devices: RunResults['devices'],
): RunResults {
  return {
    runId: s.runId,
    startedAt: s.startedAt,
    endedAt,
    outcome,
    endReason,
    final,
    timeline: [...s.agg.timeline],
    devices,
    histograms: { ...s.agg.encodedHistograms(), workloads: s.workloads.encoded() },
    notes: [...s.agg.notes],
    shards: s.shards.map((id) => ({ ...s.agg.shardStatus(id) })),
    files: s.files,
  };
}

/** The results of the whole run, with every device's record. */
export function finalResults(
  s: ResultsSource,
  final: MetricsSnapshot,
  endedAt: number,
  outcome: RunOutcome,
  endReason: string,
): RunResults {
  return results(s, final, endedAt, outcome, endReason, s.agg.deviceRecords());
}

/**
 * A checkpoint: the last merged snapshot, its traffic totals replaced by the sums of the device
 * records it carries (the records lag the counters by up to a few snapshots), the devices as ready
 * JSON chunks. Null before the first merged snapshot.
 */
export function checkpointResults(s: ResultsSource, now: number): InterimResults | null {
  const latest = s.agg.latest;
  if (!latest) return null;
  const rows = s.agg.rowTotals();
  const traffic = { ...latest.traffic, sent: rows.sent, acked: rows.acked, failed: rows.failed, skipped: rows.skipped };
  return {
    results: results(s, { ...latest, traffic }, now, 'partial', 'running (checkpoint)', {}),
    devicesJson: s.agg.deviceRecordsChunks(),
  };
}
