// What a run records besides the live snapshot: the per-device table, the timeline and the
// outcome. The engine produces them and the report (src/report/schema.ts) carries them as they are.
import type { CauseClass, MetricsSnapshot, RunState, ShardStatus } from './snapshot.js';

/** `degraded`: finished without part of the fleet (a shard crashed); `failed`: no load delivered or every shard crashed. */
export type RunOutcome = 'completed' | 'degraded' | 'aborted' | 'failed' | 'partial';

export interface DisconnectRecord {
  /** ms since epoch */
  at: number;
  cause: string;
  class: CauseClass;
}

export interface DeviceRecord {
  index: number;
  shard: number;
  /** First successful CONNACK, ms since epoch (null = never connected). */
  connectedAt: number | null;
  /** Connect latency of the first connect, ms. */
  connectMs: number | null;
  firstPublishAt: number | null;
  lastPublishAt: number | null;
  sent: number;
  acked: number;
  failed: number;
  skipped: number;
  connects: number;
  connectFailures: number;
  disconnects: DisconnectRecord[];
  /** Error class → count. */
  errors: Record<string, number>;
  paused: boolean;
  /** Last `sequence` value sent (payload field), for delivery reconciliation. */
  lastSequence: number;
}

export interface TimelinePoint {
  /** wall clock second, ms since epoch (aligned to the second) */
  ts: number;
  t: number;
  sent: number;
  acked: number;
  failed: number;
  connected: number;
  sentPerSec: number;
  ackedPerSec: number;
  mbpsOut: number;
  ackP99Ms: number | null;
  scheduleLagP99Ms: number | null;
  eventLoopDelayP99Ms: number | null;
  /** Run state at this point; `stopping` and later points are the drain and disconnect, not load. Absent in older reports. */
  state?: RunState;
  /** Devices connected per MQTT endpoint (order of `metrics.endpoints`), with two endpoints or more. */
  endpointsConnected?: number[];
}

/** What a run leaves behind; the engine returns it and src/report/build.ts turns it into the report. */
export interface RunResults {
  runId: string;
  /** ms since epoch */
  startedAt: number;
  /** ms since epoch; for a checkpoint, the moment it was taken */
  endedAt: number;
  outcome: RunOutcome;
  endReason: string;
  /** The final merged snapshot (for a checkpoint: the latest one). */
  final: MetricsSnapshot;
  timeline: TimelinePoint[];
  /** Per-device records keyed by name (empty in a checkpoint: see `devicesJson`). */
  devices: Record<string, DeviceRecord>;
  /** Encoded HDR histograms (base64), mergeable across instances; `workloads`: workload → histogram name → encoded. */
  histograms: {
    ackMs: string | null;
    connectMs: string | null;
    scheduleLagMs: string | null;
    /** Per MQTT endpoint (the order of `final.endpoints`): its connect latencies, null = none. Absent in older reports. */
    endpointConnectMs?: Array<string | null>;
    workloads?: Record<string, Record<string, string>>;
  };
  /** The supervisor's notes (also in `final.generator.notes`). */
  notes: string[];
  shards: ShardStatus[];
  /** Per-shard logs relative to the data folder. */
  files: { events: string[]; metrics: string[] };
}
