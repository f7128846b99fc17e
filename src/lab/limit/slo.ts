// The service-level objective a limit search judges each step by, written in the threshold grammar
// (src/metrics/threshold-parser.ts) over the step's own metrics below; docs/limit.md lists them.
import { parseThreshold, type MetricTable, type Threshold } from '../../metrics/threshold-parser.js';
import { compare } from '../../metrics/thresholds.js';
import type { MetricKind } from '../../metrics/threshold-metrics.js';
import { LabError } from '../../common/errors.js';
import type { ObjectiveResult, StepMeasurement, Vary } from './types.js';

interface StepMetric {
  kind: MetricKind;
  /** How the verdict sentence names it. */
  label: string;
  read(m: StepMeasurement): number | null;
}

const ratio = (a: number | null, b: number): number | null => (a === null ? null : b > 0 ? a / b : null);

/** The metrics a limit objective may name; all are the step's own (its hold, then its drain). */
export const STEP_METRICS: Readonly<Record<string, StepMetric>> = {
  lost: { kind: 'count', label: 'lost', read: (m) => m.lost },
  lost_ratio: { kind: 'ratio', label: 'lost', read: (m) => ratio(m.lost, m.sent) },
  ack_p50: { kind: 'duration', label: 'PUBACK p50', read: (m) => m.ackP50Ms },
  ack_p99: { kind: 'duration', label: 'PUBACK p99', read: (m) => m.ackP99Ms },
  ingest_p99: { kind: 'duration', label: 'ingest p99', read: (m) => m.ingestP99Ms },
  backlog_growth: {
    kind: 'ratio',
    label: 'in-flight backlog growth',
    read: (m) => (m.inFlightStart === null || m.inFlightEnd === null ? null : ratio(m.inFlightEnd - m.inFlightStart, m.sent)),
  },
  disconnect_ratio: { kind: 'ratio', label: 'disconnects', read: (m) => ratio(m.disconnects, Math.max(m.devices, 1)) },
  connect_failure_ratio: { kind: 'ratio', label: 'connect failures', read: (m) => ratio(m.connectFailures, m.connectAttempts) },
  connect_p99: { kind: 'duration', label: 'connect p99', read: (m) => m.connectP99Ms ?? null },
  reached_ratio: { kind: 'ratio', label: 'load reached', read: (m) => ratio(m.reached, m.asked) },
  schedule_lag_p99: { kind: 'duration', label: 'schedule lag p99', read: (m) => m.generator.scheduleLagP99Ms },
  generator_ok: { kind: 'flag', label: 'generator healthy', read: (m) => (m.generator.shortfall === null ? 1 : 0) },
};

const TABLE: MetricTable = { metrics: STEP_METRICS, doc: 'docs/limit.md' };

/**
 * The default objective, in the order the verdict names a broken one: causes before consequences.
 * No delivery loss, PUBACK p99 < 1 s, ingest p99 < 5 s, in-flight backlog growing by less than 1 %
 * of what was sent, disconnects under 1 % of the devices, and a generator that produced the step.
 */
export const DEFAULT_SLO: readonly string[] = [
  'generator_ok == 1',
  'ack_p99 < 1s',
  'ingest_p99 < 5s',
  'backlog_growth < 1%',
  'disconnect_ratio < 1%',
  'lost == 0',
];

/**
 * The default objective of a dimension: a search that opens connections at every step (`devices`,
 * `connect-rate`) also wants them to succeed — a refused or timed-out connect is the storm's first
 * casualty, before any disconnect or PUBACK shows it.
 */
export function defaultSlo(vary: Vary): string[] {
  // a step never counts as sustained at a rate it did not reach (a fleet still connecting, a shard
  // that could not keep up while its own health looked fine): the step fails and says so
  return vary === 'rate'
    ? [DEFAULT_SLO[0], 'reached_ratio > 90%', ...DEFAULT_SLO.slice(1)]
    : [DEFAULT_SLO[0], 'connect_failure_ratio < 1%', ...DEFAULT_SLO.slice(1)];
}

/** Parses the objectives; bad ones throw THRESHOLDS_INVALID naming docs/limit.md. `devices` is not allowed. */
export function parseSlo(expressions: readonly string[]): Threshold[] {
  const out = expressions.map((x) => parseThreshold(x, TABLE));
  const perDevice = out.find((t) => t.perDevice);
  if (perDevice) {
    throw new LabError('THRESHOLDS_INVALID', {
      message: `${JSON.stringify(perDevice.expression)}: a limit objective cannot scale with devices (the fleet changes between steps)`,
      hint: 'Write a fixed value or a ratio, e.g. disconnect_ratio < 1% (docs/limit.md).',
    });
  }
  return out;
}

/** `180 ms`, `2.4 s`, `0.5%`, `12`. */
export function formatValue(kind: MetricKind, v: number): string {
  if (kind === 'duration') return v >= 1000 ? `${+(v / 1000).toFixed(v >= 10_000 ? 0 : 1)} s` : `${Math.round(v)} ms`;
  if (kind === 'ratio') return `${+(v * 100).toFixed(v * 100 >= 10 ? 0 : 2)}%`;
  return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

const NEGATE: Record<string, string> = { '<': '≥', '<=': '>', '>': '≤', '>=': '<', '==': '≠', '!=': '=' };

function describe(t: Threshold, value: number | null, ok: boolean): string {
  const def = STEP_METRICS[t.metric];
  if (t.metric === 'generator_ok') return ok ? 'generator healthy' : 'generator could not produce the load';
  if (value === null) return `${def.label}: no data`;
  const v = formatValue(def.kind, value);
  if (t.metric === 'lost') return `${v} lost`;
  if (t.metric === 'backlog_growth' && !ok) return `in-flight backlog growing (${v} of sent)`;
  return ok ? `${def.label} ${v}` : `${def.label} ${v} ${NEGATE[t.op]} ${formatValue(def.kind, t.coefficient)}`;
}

/**
 * Judges one step. An objective without data (ingest latency when no delivery sample ran, PUBACKs
 * at QoS 0) is `no-data` and does not fail the step; `generator_ok` always has data.
 */
export function judgeStep(slo: readonly Threshold[], m: StepMeasurement): ObjectiveResult[] {
  return slo.map((t) => {
    const value = STEP_METRICS[t.metric].read(m);
    const ok = value !== null && Number.isFinite(value) && compare(value, t.op, t.coefficient);
    const verdict = value === null ? 'no-data' : ok ? 'pass' : 'fail';
    return { name: t.metric, expression: t.expression, value, limit: t.coefficient, verdict, text: describe(t, value, ok) };
  });
}

/** How much a latency must grow over the lightest step's to count as the first sign of the knee. */
export const STRAIN_FACTOR = 3;

/**
 * True when a latency objective shows strain: at least half its budget, or STRAIN_FACTOR times its
 * value at the lightest step (`baseline`) once it uses a fifth of the budget (below that, a few
 * milliseconds of noise would triple a small baseline).
 */
export function showsStrain(o: ObjectiveResult, baseline: number | null): boolean {
  if (o.value === null || o.limit <= 0 || !/^(ack|ingest)_/.test(o.name)) return false;
  if (o.value >= o.limit / 2) return true;
  return baseline !== null && baseline > 0 && o.value >= baseline * STRAIN_FACTOR && o.value >= o.limit / 5;
}
