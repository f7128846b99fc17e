// The run report: data/runs/<run-id>.json (and latest.json). `metrics` has exactly the shape of
// GET /api/metrics (src/metrics/snapshot.ts). Versioned: add fields, never rename.
import type { MetricsSnapshot, CauseClass, RunState } from '../metrics/snapshot.js';
import type { ThresholdResult } from '../metrics/thresholds.js';

export type { ThresholdResult };

export const REPORT_SCHEMA_VERSION = 1;

export type RunOutcome = 'completed' | 'aborted' | 'failed' | 'partial';

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
}

export interface DeliveryDevice {
  sent: number;
  acked: number;
  stored: number;
  lost: number;
  duplicates: number;
  late: number;
  /** Missing sequence numbers (only for the sampled devices, bounded). */
  lostSequences?: number[];
}

export interface DeliveryReport {
  method: 'timeseries-count' | 'emulator-stats' | 'both';
  checkedAt: string;
  totals: { sent: number; acked: number; stored: number; lost: number; duplicates: number; late: number };
  devices: Record<string, DeliveryDevice>;
  ingestLatencyMs?: import('../metrics/snapshot.js').Percentiles;
  rateLimit?: { events: Array<{ device: string; at: number; evidence: string }>; pattern: string | null; firstAt: number | null; advice: string | null };
  notes: string[];
}

export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: 'tb-load-lab';
  toolVersion: string;
  runId: string;
  instance: string | null;
  startedAt: string;
  endedAt: string | null;
  durationSec: number;
  outcome: RunOutcome;
  /** Why the run ended: `duration reached`, `SIGINT`, `stopped via control endpoint`, an error… */
  endReason: string;
  /** Configuration with secrets removed. */
  config: Record<string, unknown>;
  machine: { hostname: string; platform: string; cpus: number; memoryGB: number; node: string };
  metrics: MetricsSnapshot;
  timeline: TimelinePoint[];
  devices: Record<string, DeviceRecord>;
  /** Encoded HDR histograms (base64, hdr-histogram-js compressed), so reports can be merged exactly. */
  histograms: { ackMs: string | null; connectMs: string | null; scheduleLagMs: string | null; ingestLatencyMs?: string | null };
  delivery: DeliveryReport | null;
  thresholds: ThresholdResult[] | null;
  files: { events: string[]; metrics: string[] };
  /** Set when this report was merged from instance reports. */
  mergedFrom?: string[];
}
