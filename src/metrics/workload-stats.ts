// The stats channel every workload reports through (issue 16, docs/workloads.md): named counters
// and named HDR histograms. This table says what each workload reports; the shard ships each
// workload's share (WorkloadStatsPart) in every snapshot, the supervisor adds the shards up
// (src/engine/workload-accumulator.ts) into `workloads.<name>` of the metrics snapshot and the
// report, and the same table drives the Prometheus series, the threshold metrics and the docs.
//
// Counters are cumulative over the run (they only grow), except those marked `gauge` (a current
// value: devices, in flight). Histograms are latencies in ms against the intended send time; the
// first one, `latencyMs`, is the workload's primary latency (thresholds `<name>_p99`, the
// dashboard's p50/p99, Prometheus `tblab_<prefix>_latency_quantile_seconds`).
import type { Percentiles } from './snapshot.js';
import type { WorkloadName } from '../common/workloads.js';
import { ATTRIBUTE_STATS, RPC_STATS } from './workload-stats-rpc.js';

export interface CounterDef {
  doc: string;
  /** A current value (not cumulative): no rate, no `_total`, may go down. */
  gauge?: true;
}

export interface WorkloadStatsDef {
  /** Prometheus names: `tblab_<prefix>_<counter>_total`, `tblab_<prefix>_latency_quantile_seconds`. */
  prefix: string;
  /** The dashboard card's title. */
  title: string;
  /** What `sent` … mean for this workload, in the order the card shows them. */
  counters: Readonly<Record<string, CounterDef>>;
  /** Histograms (ms) by name, `latencyMs` first; value = what it measures. */
  histograms: Readonly<Record<string, string>>;
  /** The counters charted as per-second rates (the dashboard's chart). */
  chart: readonly string[];
}

/** The counters every fleet workload gets from the shard's rows (src/engine/workload-rows.ts). */
export const FLEET_COUNTERS = ['devices', 'sent', 'acked', 'failed', 'inFlight'] as const;
const fleet = (what: { devices?: string; sent: string; acked: string; failed?: string }): Record<string, CounterDef> => ({
  devices: { doc: what.devices ?? 'rows (simulated devices) of this workload', gauge: true },
  sent: { doc: what.sent },
  acked: { doc: what.acked },
  failed: { doc: what.failed ?? 'messages failed (write error, ack timeout, lost with a dropped connection)' },
  inFlight: { doc: 'messages awaiting their acknowledgement', gauge: true },
});

/**
 * Every workload's stats. `device` is built; the others are drafts their builders adjust (the
 * names of the interface in issue 16 are fixed: rpc `sent answered timeouts failed latencyMs`,
 * gateway `gateways children sent acked`).
 */
export const WORKLOAD_STATS: Readonly<Record<WorkloadName, WorkloadStatsDef>> = {
  device: {
    prefix: 'device',
    title: 'Devices (MQTT telemetry)',
    counters: fleet({ devices: 'MQTT devices', sent: 'telemetry publishes written', acked: 'PUBACKs received (QoS 1)' }),
    histograms: { latencyMs: 'publish (socket write) → PUBACK' },
    chart: ['sent', 'acked'],
  },
  gateway: {
    prefix: 'gateway',
    title: 'Gateways',
    counters: {
      gateways: { doc: 'gateway devices of the run (one MQTT connection each)', gauge: true },
      children: { doc: 'child devices carried by the gateways', gauge: true },
      ...fleet({
        devices: 'child devices (rows) of this workload',
        sent: 'child messages written (entries of gateway publishes)',
        acked: "child messages acknowledged (their gateway publish's PUBACK)",
      }),
      gatewaysConnected: { doc: 'gateway connections up', gauge: true },
      childrenConnected: { doc: 'children whose v1/gateway/connect was acknowledged and who have not left', gauge: true },
      publishes: { doc: 'PUBLISH packets the gateways wrote: telemetry batches, connects, disconnects, attributes' },
      batches: { doc: 'v1/gateway/telemetry publishes written (one per gateway per tick)' },
      batchesAcked: { doc: 'v1/gateway/telemetry publishes acknowledged' },
      refused: { doc: 'child messages in publishes refused by a PUBACK reason code (MQTT 5)' },
      discarded: { doc: 'child messages of a tick whose gateway connection ended before the write' },
      connects: { doc: 'v1/gateway/connect written' },
      connectsAcked: { doc: 'v1/gateway/connect acknowledged (ThingsBoard found or created the child)' },
      connectsRefused: { doc: 'v1/gateway/connect refused by a PUBACK reason code' },
      disconnects: { doc: 'v1/gateway/disconnect written' },
      attributes: { doc: 'children in v1/gateway/attributes publishes' },
      attributesAcked: { doc: 'children in acknowledged v1/gateway/attributes publishes' },
      gatewayConnects: { doc: 'gateway connections accepted (CONNACK)' },
      gatewayDrops: { doc: 'gateway connections lost while up (every child on it dropped)' },
      childrenDropped: { doc: 'children whose session the server ended (v1/gateway/disconnect to the gateway, MQTT 5)' },
    },
    histograms: { latencyMs: "child message written → its gateway publish's PUBACK", batchMs: 'gateway publish → PUBACK' },
    chart: ['sent', 'acked', 'batches'],
  },
  rpc: RPC_STATS,
  attributes: ATTRIBUTE_STATS,
  http: {
    prefix: 'http',
    title: 'HTTP devices',
    counters: fleet({
      devices: 'HTTP devices',
      sent: 'telemetry requests sent (POST /api/v1/{token}/telemetry)',
      acked: 'requests answered 2xx',
      failed: 'requests refused (another status), lost with their connection, or unanswered within ACK_TIMEOUT_MS',
    }),
    histograms: { latencyMs: 'request handed to the pool → response, against the time it was sent' },
    chart: ['sent', 'acked'],
  },
};

/** The primary histogram of every workload. */
export const PRIMARY_HISTOGRAM = 'latencyMs';
/** Field names of a workload summary that are not counters or histograms. */
export const SUMMARY_FIELDS = ['rates', 'byCause', 'series'] as const;

/** One shard's share of one workload, in every shard snapshot. */
export interface WorkloadStatsPart {
  /** Cumulative since the shard started (gauges: current value). */
  counters: Record<string, number>;
  /** Encoded HDR histograms (src/metrics/hdr.ts) of this interval only: the supervisor accumulates. */
  hist: Record<string, string>;
  /** Cumulative failures (timeouts, refusals, HTTP statuses) by cause text. */
  byCause?: Record<string, number>;
  /** Intended time of this shard's first call, ms since epoch (round-trip workloads): their seconds under load start here. */
  firstAt?: number;
}

/** One point of a workload's chart: its last whole second. */
export interface WorkloadSeriesPoint {
  /** Wall clock, ms since epoch. */
  ts: number;
  /** Primary latency of this second, ms. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** The def's `chart` counters per second. */
  rates: Record<string, number>;
}

/**
 * `workloads.<name>` of the metrics snapshot and the report: every counter of the def at the top
 * (`sent`, `acked` …), every histogram as percentiles (`latencyMs.p99`), `rates` (per second: live
 * the last whole second, final the run's average under load), `byCause`, and `series` (live only).
 */
export type WorkloadSummary = {
  [field: string]: number | Percentiles | Record<string, number> | WorkloadSeriesPoint[] | undefined;
} & {
  rates: Record<string, number>;
  byCause?: Record<string, number>;
  series?: WorkloadSeriesPoint[];
};

/** A counter of `workloads.<name>` (null when that workload did not run). */
export function workloadCounter(w: Record<string, WorkloadSummary> | undefined, name: string, counter: string): number | null {
  const v = w?.[name]?.[counter];
  return typeof v === 'number' ? v : null;
}

/** A histogram summary of `workloads.<name>` (null when that workload did not run). */
export function workloadHistogram(w: Record<string, WorkloadSummary> | undefined, name: string, hist: string): Percentiles | null {
  const v = w?.[name]?.[hist];
  return v && typeof v === 'object' && !Array.isArray(v) && 'count' in v ? (v as Percentiles) : null;
}

/** `inFlight` → `in_flight`: counters as Prometheus and threshold names spell them. */
export const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
