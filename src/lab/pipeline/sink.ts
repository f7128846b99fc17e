// A sink follows one run (k6's Output is the model): start, each merged snapshot, the end. It
// never edits a snapshot or a report: it *returns* the sections it owns, and the pipeline
// (./start.ts) composes them, so the order in which sinks are attached changes nothing.
import type { MetricsSnapshot } from '../../metrics/snapshot.js';
import type { RunResults } from '../../metrics/records.js';
import type { ReportSections } from '../../report/build.js';
import type { RunReport } from '../../report/schema.js';
import type { ShardEventBatch } from '../../engine/results.js';

/** What a sink may do to the run it follows. */
export interface RunView {
  readonly runId: string;
  stop(reason: string): void;
  /** The newest composed snapshot. */
  latest(): MetricsSnapshot | null;
}

/** The parts of the live snapshot a sink may own. */
export interface LiveSections {
  delivery?: MetricsSnapshot['delivery'];
  /** ThingsBoard's statistics read so far (src/lab/server-stats-run-sink.ts). */
  server?: MetricsSnapshot['server'];
}

export interface RunSink {
  /** Shown in messages (`delivery check failed: …`) and section conflicts. */
  readonly name: string;
  /** The run has started (shards forked). A failure stops the run. */
  start?(run: RunView): void | Promise<void>;
  /** This sink's sections of the live snapshot, read from the engine's snapshot (never changed). */
  live?(engineSnapshot: Readonly<MetricsSnapshot>): LiveSections;
  /** Each composed snapshot (once a second, and the final one). */
  snapshot?(s: Readonly<MetricsSnapshot>): void;
  /** The events of one shard snapshot (connects, disconnects, errors…), as they arrive from that shard. */
  events?(batch: ShardEventBatch): void;
  /** A human line of the run (start, notes, stopping, the end). */
  log?(line: string): void;
  /** The engine has ended: this sink's report sections, from the results alone. */
  end?(results: RunResults): ReportSections | Promise<ReportSections>;
  /** Judges the report made of the results and every `end` section (thresholds read the delivery). */
  judge?(report: Readonly<RunReport>): ReportSections | Promise<ReportSections>;
  /** The final report is written. */
  finished?(report: Readonly<RunReport>): void | Promise<void>;
}

/** One set of live sections out of many; a section owned by two sinks is a programming error. */
export function composeLive(engineSnapshot: MetricsSnapshot, sinks: readonly RunSink[]): MetricsSnapshot {
  const out: Record<string, unknown> = {};
  const owners: Record<string, string> = {};
  for (const sink of sinks) {
    if (!sink.live) continue;
    for (const [key, value] of Object.entries(sink.live(engineSnapshot))) {
      if (value === undefined) continue;
      if (key in owners) throw new Error(`live section ${key} returned by both ${owners[key]} and ${sink.name}`);
      owners[key] = sink.name;
      out[key] = value;
    }
  }
  return Object.keys(out).length ? { ...engineSnapshot, ...out } : engineSnapshot;
}
