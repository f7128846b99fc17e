// The run report: data/runs/<run-id>.json (and latest.json). `metrics` has exactly the shape of
// GET /api/metrics (src/metrics/snapshot.ts). Versioned: add fields, never rename.
import type { MetricsSnapshot, WorkloadSummary } from '../metrics/snapshot.js';
import type { RunOutcome, DisconnectRecord, DeviceRecord, TimelinePoint } from '../metrics/records.js';
import type { RunProblem } from './outcome.js';
import type { ThresholdResult } from '../metrics/thresholds.js';
import type { ServerSection } from '../metrics/triage.js';

export type { ServerSection };

export type { ThresholdResult };

export const REPORT_SCHEMA_VERSION = 1;

/** What an `outcome: "partial"` report is, in words for people (`tblab report`, `tblab compare`). */
export const PARTIAL_NOTE =
  'a checkpoint, not a finished run (the run was still going, or its main process died); its numbers stop at the checkpoint';

export type { RunOutcome, DisconnectRecord, DeviceRecord, TimelinePoint };

export interface DeliveryDevice {
  sent: number;
  acked: number;
  /** Points of the `sequence` key stored in the run window (duplicates included). */
  stored: number;
  /** Sequence values of 1..sent never stored (for devices not read one by one: max(0, sent − stored)). */
  lost: number;
  duplicates: number;
  /** Stored after the end-of-run read, or (read one by one) stored with ts > publish time + DELIVERY_LATE_MS. */
  late: number;
  /** Missing sequence numbers (only for the sampled devices, bounded). */
  lostSequences?: number[];
  /** True when `lost`/`duplicates` come from the stored sequence values themselves (sampled devices, or the emulator). */
  exact?: boolean;
  /** Acknowledged (PUBACK) but not stored: the loss the device never heard of. */
  ackedNotStored?: number;
  /**
   * Devices of a crashed shard only: publishes after the device's last record (the shard died
   * before reporting them), proven by the stored sequence values above `sent`; `lost` counts over
   * 1..sent + unrecorded. Not duplicates, not another writer.
   */
  unrecorded?: number;
  /** The server has no device of this name: a gateway child that was never created (nothing stored). */
  missing?: boolean;
}

export interface RateLimitEvent {
  device: string;
  /** ms since epoch */
  at: number;
  evidence: string;
}

export interface DeliveryReport {
  method: 'timeseries-count' | 'emulator-stats' | 'both';
  checkedAt: string;
  totals: {
    sent: number;
    acked: number;
    stored: number;
    lost: number;
    duplicates: number;
    late: number;
    ackedNotStored?: number;
    /** Present when a shard crashed: the sum of the devices' `unrecorded`. */
    unrecorded?: number;
    /** Present when the run had gateway children: how many do not exist on the server (0 = all were created). */
    missing?: number;
  };
  devices: Record<string, DeliveryDevice>;
  ingestLatencyMs?: import('../metrics/snapshot.js').Percentiles;
  rateLimit?: {
    events: RateLimitEvent[];
    pattern: string | null;
    firstAt: number | null;
    advice: string | null;
    /** Devices with at least one probable rate-limit close. */
    devices?: string[];
    /** Probable rate-limit events in all (the `events` list is bounded). */
    count?: number;
  };
  notes: string[];
  /** The read-back window [startTs, endTs), ms. */
  window?: { startTs: number; endTs: number };
  /** Devices whose stored sequence values were read one by one. */
  sampled?: string[];
  /** Devices with lost points, worst first (bounded). */
  devicesWithLoss?: string[];
  /** With --embedded: does the REST read-back agree with the emulator's own record? */
  crossCheck?: { agree: boolean; mismatches: string[] };
  /** Set when the read-back failed: stored/lost are then unknown (zeros), see notes. */
  error?: string;
  /** Ingest-latency sample: devices followed and the WebSocket endpoint used. */
  latencySample?: { devices: number; endpoint: string | null; updates: number };
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
  histograms: {
    ackMs: string | null;
    connectMs: string | null;
    scheduleLagMs: string | null;
    ingestLatencyMs?: string | null;
    /** Per MQTT endpoint, in the order of `metrics.endpoints`: its connect latencies (null = none). Absent in older reports. */
    endpointConnectMs?: Array<string | null>;
    /** Workload → histogram name → encoded (issue 16). */
    workloads?: Record<string, Record<string, string>>;
  };
  /**
   * Each workload of the run (issue 16, docs/workloads.md): `metrics.workloads` at the end, without
   * the live series: counters (`sent`, `acked`…), histograms as percentiles (`latencyMs.p99`),
   * `rates` over the seconds under load, `byCause`. Absent in reports written before workloads.
   */
  workloads?: Record<string, WorkloadSummary>;
  delivery: DeliveryReport | null;
  thresholds: ThresholdResult[] | null;
  /** Per-shard event logs and metrics CSV; `log`: the chronological run log (`logs/<run-id>.log`), when written. */
  files: { events: string[]; metrics: string[]; log?: string };
  /** ThingsBoard's statistics about itself and the triage verdict (docs/server-stats.md); null when
   *  SERVER_STATS=0, missing in reports written before it existed. */
  server?: ServerSection | null;
  /** Set when this report was merged from instance reports. */
  mergedFrom?: string[];
  /** Why the outcome is `failed` or `degraded` (catalogue code, message, hint, exit code); null otherwise. Absent in older reports. */
  problem?: RunProblem | null;
}
