// The metrics snapshot: the stable, versioned JSON shape of `GET /api/metrics`, of each SSE event
// on `/api/stream`, and of the run report's `metrics` object. External tools consume it: add
// fields freely, never rename or remove one without bumping METRICS_SCHEMA_VERSION.
// JSON Schema: schemas/metrics.schema.json (kept in sync by a contract test).

import type { Series } from './triage.js';
import type { WorkloadSummary } from './workload-stats.js';

export type { WorkloadSummary };

/**
 * 2: `workloads` (issue 16). 3: `endpoints` (issue 18). Older snapshots (the `metrics` of older
 * reports) lack what came later.
 */
export const METRICS_SCHEMA_VERSION = 3;

export type RunState = 'starting' | 'connecting' | 'running' | 'stopping' | 'finished' | 'aborted' | 'failed';

/** Latency summary from an HDR histogram, milliseconds. All null when count is 0. */
export interface Percentiles {
  count: number;
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

/** Disconnect root-cause classes (docs/design.md#what-is-measured). */
export type CauseClass = 'network' | 'auth' | 'rate-limit' | 'server' | 'memory' | 'resources' | 'protocol' | 'generic';

export interface SeriesPoint {
  /** Seconds since the run started. */
  t: number;
  /** Wall clock, ms since epoch. */
  ts: number;
  sentPerSec: number;
  ackedPerSec: number;
  failedPerSec: number;
  mbpsOut: number;
  connected: number;
  ackP99Ms: number | null;
  scheduleLagP99Ms: number | null;
}

export interface DeviceRow {
  name: string;
  connected: boolean;
  paused: boolean;
  sent: number;
  acked: number;
  failed: number;
  disconnects: number;
}

/** One MQTT endpoint of the run (MQTT_ENDPOINTS, or the one MQTT_HOST:MQTT_PORT) and what its devices did. */
export interface EndpointStats {
  /** `host:port` (IPv6 in brackets, credentials redacted). */
  endpoint: string;
  /** Devices of this run assigned to it: fleet index i → endpoint (i − 1) mod K. */
  devices: number;
  connected: number;
  attempts: number;
  succeeded: number;
  /** Connect attempts that failed (refused, timeout, socket error…). */
  failed: number;
  /** TCP open → CONNACK of this endpoint's connects. */
  connectMs: Percentiles;
  /** Session ends not asked for, connect failures included, as `disconnects` of the whole run. */
  disconnects: { total: number; byCause: Record<string, number>; byClass: Partial<Record<CauseClass, number>> };
}

export interface ShardStatus {
  id: number;
  pid: number | null;
  state: 'starting' | 'running' | 'stopping' | 'done' | 'crashed';
  devices: number;
  connected: number;
  /** Exit code / signal when the shard ended abnormally. */
  exit?: string;
}

/**
 * Cumulative histogram buckets (Prometheus `le` semantics): `counts[i]` = values ≤ `leMs[i]`.
 * Built by `cumulativeBuckets()` (src/metrics/buckets.ts) on the fixed LATENCY_BUCKETS_MS ladder.
 */
export interface CumulativeBuckets {
  leMs: number[];
  counts: number[];
  count: number;
  sumMs: number;
}

export interface MetricsSnapshot {
  schemaVersion: typeof METRICS_SCHEMA_VERSION;
  runId: string;
  /** `i/N` when this lab is one instance of several, else null. */
  instance: string | null;
  state: RunState;
  /** ISO time the run started, and of this snapshot. */
  startedAt: string;
  at: string;
  elapsedSec: number;
  target: { mqtt: string; rest: string | null; qos: 0 | 1; mqttVersion: string; publishIntervalSec: number };

  connections: {
    /** Devices in this run (the configured slice). */
    configured: number;
    connected: number;
    peakConnected: number;
    paused: number;
    /** Devices that never connected or are currently down after a failure. */
    failedDevices: number;
    attempts: number;
    succeeded: number;
    failed: number;
    /** Connect outcomes: `accepted`, `refused: not authorized (5)`, `ECONNREFUSED`, `timeout`, … → count. */
    byOutcome: Record<string, number>;
  };

  traffic: {
    /** Publishes written to the socket. */
    sent: number;
    /** PUBACKs received (QoS 1). At QoS 0 stays 0. */
    acked: number;
    /** Write errors, ack timeouts, publishes lost with a dropped connection. */
    failed: number;
    /** QoS 1: sent − acked − failed. */
    inFlight: number;
    bytesSent: number;
    /** Publishes the schedule wanted but that were not sent (device down or paused): not counted in `sent`. */
    skipped: number;
    /**
     * Live: rates over the last whole second (each shard over its own clock). Final snapshot (the
     * report): totals ÷ `loadSec`, the whole run.
     */
    sentPerSec: number;
    ackedPerSec: number;
    mbpsOut: number;
    avgSentPerDevice: number;
    /** Average publishes per second per configured device over the seconds under load. */
    avgRatePerDevice: number;
    /** Seconds under load: first publish → the stop (→ now while running); 0 before the first publish. Optional (v1 addition). */
    loadSec?: number;
  };

  latency: {
    /** Publish (socket write) → PUBACK. */
    ackMs: Percentiles;
    /** TCP open → CONNACK. */
    connectMs: Percentiles;
    /** Actual − intended send time: the generator's own lag. */
    scheduleLagMs: Percentiles;
  };

  disconnects: {
    total: number;
    /** Cause text → count, e.g. `connection lost`, `server closed`, `keepalive timeout`. */
    byCause: Record<string, number>;
    byClass: Partial<Record<CauseClass, number>>;
  };

  /** Per MQTT endpoint, in the order configured (one entry without MQTT_ENDPOINTS). Schema v3. */
  endpoints: EndpointStats[];

  /** Errors by class (connect failures, write errors, ack timeouts, protocol errors…). */
  errors: { total: number; byClass: Record<string, number> };

  collapse: null | {
    at: string;
    elapsedSec: number;
    /** `connections` (fell below share of peak) or `acks` (acks stopped). */
    kind: 'connections' | 'acks';
    dominantCause: string;
    connectedAtCollapse: number;
    peakConnected: number;
  };

  generator: {
    verdict: 'ok' | 'lagging' | 'overloaded';
    eventLoopDelayP99Ms: number | null;
    scheduleLagP99Ms: number | null;
    cpuPercent: number | null;
    rssMB: number;
    notes: string[];
  };

  /** Last ~60 one-second points. */
  series: SeriesPoint[];
  /** Top devices by sent (at most 50) plus any with failures. */
  topDevices: DeviceRow[];
  shards: ShardStatus[];

  /**
   * Optional (schema v1 addition): cumulative buckets of the merged HDR histograms, so `/metrics`
   * can export real Prometheus histograms that sum across instances. Absent → `/metrics` exports
   * only the per-instance quantile gauges.
   */
  latencyBuckets?: { ackMs?: CumulativeBuckets; connectMs?: CumulativeBuckets };

  /** Live delivery sample (issue 7); null until measured. */
  delivery: null | {
    sampleDevices: number;
    ingestLatencyMs: Percentiles;
    stored?: number;
    /** Live (DELIVERY_EVERY_SEC): acknowledged but not (yet) stored at the last count. */
    pending?: number;
    /** ISO time of the last stored-points count. */
    checkedAt?: string;
    lost?: number;
    duplicates?: number;
    rateLimitEvents?: number;
  };

  /**
   * Optional (issue 19): ThingsBoard's statistics about itself as read so far by the server-stats sink
   * (src/lab/server-stats-sink.ts): the recent points of each series, each with its source and window
   * (queue stats keep ThingsBoard's window), and what is not visible and why. Absent = not read.
   */
  server?: null | { series: Series[]; notVisible: string[] };

  /**
   * Schema v2 (issue 16): each workload of the run by name (`device`, `gateway`, `rpc`, `attributes`,
   * `http`): its counters, its histograms as percentiles (`latencyMs` first), `rates` per second,
   * `byCause`, and `series` for the dashboard (src/metrics/workload-stats.ts, docs/workloads.md).
   * Absent before the first shard snapshot.
   */
  workloads?: Record<string, WorkloadSummary>;
}

export function emptyPercentiles(): Percentiles {
  return { count: 0, min: null, mean: null, p50: null, p90: null, p95: null, p99: null, p999: null, max: null };
}
