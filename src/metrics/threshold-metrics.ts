// The metrics a --threshold may name, each with its kind (which units it accepts) and how to read
// it from a run: the same table serves the parser's validation, the evaluator and docs/thresholds.md.
import type { MetricsSnapshot, Percentiles } from './snapshot.js';
import { PRIMARY_HISTOGRAM, WORKLOAD_STATS, snake, workloadCounter, workloadHistogram } from './workload-stats.js';
import { WORKLOAD_NAMES } from '../common/workloads.js';

/**
 * `duration`: milliseconds (accepts `ms`, `s`); `count`: a number of things (accepts `k`, `M`,
 * `devices`); `ratio`: 0…1 (accepts `%`); `rate`: per second (accepts `k`, `M`, `devices`);
 * `flag`: 0 or 1.
 */
export type MetricKind = 'duration' | 'count' | 'ratio' | 'rate' | 'flag';

/**
 * What thresholds read: the final (or current) snapshot, plus the `connected` values of the
 * timeline after ramp-up, which a single snapshot cannot hold (see `connectedAfterRamp`).
 */
export interface ThresholdInput {
  snapshot: MetricsSnapshot;
  /** Seconds under load: start → stop, without the drain (a live snapshot's elapsedSec). */
  elapsedSec: number;
  /** Minimum of `connected` after ramp-up; null until ramp-up ended. */
  connectedMin: number | null;
  /** Devices connected when the load ended (before the stop disconnected them); live: now. */
  connectedFinal: number;
  /** Delivery totals when the run was reconciled (report.delivery), else the live sample. */
  delivery: { sent: number; stored: number; lost: number } | null;
}

export interface MetricDef {
  kind: MetricKind;
  doc: string;
  /**
   * `up`: never decreases during a run; `down`: never increases. A bound that such a metric
   * already broke cannot recover, so `--abort-on-fail` may act on it at once (see thresholds.ts).
   */
  monotonic?: 'up' | 'down';
  read(i: ThresholdInput): number | null;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

type PercentileField = 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max' | 'mean';
const PERCENTILE_FIELDS: readonly PercentileField[] = ['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean'];
const HISTOGRAMS: ReadonlyArray<{ prefix: string; what: string; pick: (s: MetricsSnapshot) => Percentiles }> = [
  { prefix: 'ack', what: 'publish → PUBACK latency', pick: (s) => s.latency.ackMs },
  { prefix: 'connect', what: 'TCP open → CONNACK latency', pick: (s) => s.latency.connectMs },
  { prefix: 'schedule_lag', what: "the generator's own schedule lag", pick: (s) => s.latency.scheduleLagMs },
];

function histogramMetrics(): Record<string, MetricDef> {
  const out: Record<string, MetricDef> = {};
  for (const h of HISTOGRAMS) {
    for (const f of PERCENTILE_FIELDS) {
      out[`${h.prefix}_${f}`] = {
        kind: 'duration',
        doc: `${f} of ${h.what}, ms`,
        ...(f === 'max' ? { monotonic: 'up' as const } : {}),
        read: (i) => h.pick(i.snapshot)[f],
      };
    }
  }
  return out;
}

/**
 * Each workload this build runs (docs/workloads.md): `<workload>_<counter>` for its counters
 * (`rpc_timeouts`, `device_in_flight`) and `<workload>_p50` … `_max` of its primary latency
 * (`rpc_p99`). No data when the workload did not run.
 */
function workloadMetrics(): Record<string, MetricDef> {
  const out: Record<string, MetricDef> = {};
  for (const name of WORKLOAD_NAMES) {
    const def = WORKLOAD_STATS[name];
    for (const [counter, c] of Object.entries(def.counters)) {
      out[`${name}_${snake(counter)}`] = {
        kind: 'count',
        ...(c.gauge ? {} : { monotonic: 'up' as const }),
        doc: `${name} workload: ${c.doc}`,
        read: (i) => workloadCounter(i.snapshot.workloads, name, counter),
      };
    }
    for (const f of PERCENTILE_FIELDS) {
      out[`${name}_${f}`] = {
        kind: 'duration',
        doc: `${name} workload: ${f} of ${def.histograms[PRIMARY_HISTOGRAM]}, ms`,
        ...(f === 'max' ? { monotonic: 'up' as const } : {}),
        read: (i) => workloadHistogram(i.snapshot.workloads, name, PRIMARY_HISTOGRAM)?.[f] ?? null,
      };
    }
  }
  return out;
}

/** Every metric name a threshold may use. */
export const THRESHOLD_METRICS: Readonly<Record<string, MetricDef>> = {
  sent: { kind: 'count', monotonic: 'up', doc: 'publishes written to the socket', read: (i) => i.snapshot.traffic.sent },
  acked: { kind: 'count', monotonic: 'up', doc: 'PUBACKs received (QoS 1)', read: (i) => i.snapshot.traffic.acked },
  failed: {
    kind: 'count',
    monotonic: 'up',
    doc: 'failed publishes (write error, ack timeout, lost with a connection)',
    read: (i) => i.snapshot.traffic.failed,
  },
  skipped: {
    kind: 'count',
    monotonic: 'up',
    doc: 'scheduled publishes not sent (device down or paused)',
    read: (i) => i.snapshot.traffic.skipped,
  },
  failed_ratio: { kind: 'ratio', doc: 'failed ÷ sent', read: (i) => ratio(i.snapshot.traffic.failed, i.snapshot.traffic.sent) },
  ack_ratio: { kind: 'ratio', doc: 'acked ÷ sent (QoS 1)', read: (i) => ratio(i.snapshot.traffic.acked, i.snapshot.traffic.sent) },
  msg_rate: {
    kind: 'rate',
    doc: 'average publishes per second under load (start → stop)',
    read: (i) => (i.elapsedSec > 0 ? i.snapshot.traffic.sent / i.elapsedSec : null),
  },
  errors: {
    kind: 'count',
    monotonic: 'up',
    doc: 'errors of every class (connect failures, write errors, ack timeouts, protocol errors)',
    read: (i) => i.snapshot.errors.total,
  },
  connect_failures: {
    kind: 'count',
    monotonic: 'up',
    doc: 'failed connect attempts (refused, timeout, socket error)',
    read: (i) => i.snapshot.connections.failed,
  },
  ...histogramMetrics(),
  connected_min: {
    kind: 'count',
    monotonic: 'down',
    doc: 'fewest devices connected at once after ramp-up (see "connected_min" below)',
    read: (i) => i.connectedMin,
  },
  connected_final: {
    kind: 'count',
    doc: 'devices connected when the load ended, before the stop disconnected them (live: now)',
    read: (i) => i.connectedFinal,
  },
  peak_connected: {
    kind: 'count',
    monotonic: 'up',
    doc: 'most devices connected at once',
    read: (i) => i.snapshot.connections.peakConnected,
  },
  disconnects: { kind: 'count', monotonic: 'up', doc: 'disconnects of every cause', read: (i) => i.snapshot.disconnects.total },
  collapse: {
    kind: 'flag',
    monotonic: 'up',
    doc: '1 when the run collapsed (connections fell below COLLAPSE_SHARE of the peak, or acks stopped), else 0',
    read: (i) => (i.snapshot.collapse ? 1 : 0),
  },
  stored_ratio: {
    kind: 'ratio',
    doc: 'stored ÷ sent from the delivery check (no data when the run was not reconciled)',
    read: (i) => (i.delivery ? ratio(i.delivery.stored, i.delivery.sent) : null),
  },
  lost: {
    kind: 'count',
    monotonic: 'up',
    doc: 'publishes the target did not store, from the delivery check',
    read: (i) => i.delivery?.lost ?? null,
  },
  ...workloadMetrics(),
};

export const isThresholdMetric = (name: string): boolean => Object.prototype.hasOwnProperty.call(THRESHOLD_METRICS, name);
