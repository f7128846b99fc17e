// `tblab compare A B`: two runs side by side with deltas, each change judged better / worse / same
// within a noise band, and one verdict line. A is the baseline, B the candidate. Metric names and
// how they are read are the thresholds' (threshold-metrics.ts), so both speak the same language.
import { LabError } from '../common/errors.js';
import { THRESHOLD_METRICS, isThresholdMetric, type MetricKind } from '../metrics/threshold-metrics.js';
import { formatMetricValue } from '../metrics/thresholds.js';
import { PARTIAL_NOTE, type RunReport } from './schema.js';
import { thresholdInputFromReport } from './thresholds.js';
import { renderTable, duration, num } from './table.js';
import { workloadCompareRows } from './workloads-compare.js';

type Direction = 'higher' | 'lower' | null;

/** The rows, in print order, and which way is better (null = shown, not judged). */
const ROWS: ReadonlyArray<[string, Direction]> = [
  ['msg_rate', 'higher'],
  ['sent', null],
  ['acked', null],
  ['failed', null],
  ['ack_ratio', 'higher'],
  ['failed_ratio', 'lower'],
  ['ack_p50', 'lower'],
  ['ack_p95', 'lower'],
  ['ack_p99', 'lower'],
  ['ack_max', null],
  ['connect_p50', 'lower'],
  ['connect_p95', 'lower'],
  ['connect_p99', 'lower'],
  ['schedule_lag_p99', null],
  ['peak_connected', 'higher'],
  ['connected_min', 'higher'],
  ['connected_final', 'higher'],
  ['disconnects', 'lower'],
  ['errors', 'lower'],
  ['collapse', 'lower'],
  ['stored_ratio', 'higher'],
  ['lost', 'lower'],
];

/** A change smaller than the band is noise. `relative` is a share of A's value; `absolute` in the metric's unit. */
export interface Band {
  relative: number;
  absolute: number;
}

/** Default band: 5% of the baseline, but at least this much in absolute terms per kind. */
export const DEFAULT_RELATIVE_BAND = 0.05;
const ABSOLUTE_FLOOR: Record<MetricKind, number> = { duration: 1, ratio: 0.0001, count: 0, rate: 0, flag: 0 };

export interface BandOptions {
  /** Default relative band (0.05 = 5%). */
  relative?: number;
  /** Per-metric bands, e.g. { ack_p99: { relative: 0.1, absolute: 0 } }. */
  perMetric?: Record<string, Band>;
}

/**
 * Parses `--band` values: `5%` (default band for every metric), `ack_p99=10%` (relative for one
 * metric) or `ack_p99=20ms` / `failed_ratio=0.001` (absolute, in the metric's unit; ms or s for durations).
 */
export function parseBands(values: readonly string[]): BandOptions {
  const out: BandOptions = { perMetric: {} };
  for (const v of values) {
    const m = /^(?:([a-z0-9_]+)\s*=\s*)?(\d+(?:\.\d+)?|\.\d+)\s*(%|ms|s)?$/.exec(v.trim());
    const bad = (why: string) =>
      new LabError('USAGE', {
        message: `--band ${JSON.stringify(v)}: ${why}`,
        hint: 'Use 5% (every metric), ack_p99=10% (one metric, relative) or ack_p99=20ms (one metric, absolute).',
      });
    if (!m) throw bad('expected PERCENT% or METRIC=VALUE[%|ms|s]');
    const [, metric, n, unit] = m;
    const value = Number(n);
    if (!metric) {
      if (unit !== '%') throw bad('a band for every metric must be a percentage');
      out.relative = value / 100;
      continue;
    }
    if (!isThresholdMetric(metric) || !ROWS.some(([name]) => name === metric))
      throw bad(`unknown metric ${metric}; compared metrics: ${ROWS.map(([r]) => r).join(', ')}`);
    const kind = THRESHOLD_METRICS[metric].kind;
    if ((unit === 'ms' || unit === 's') && kind !== 'duration') throw bad(`${metric} is a ${kind}, not a duration`);
    out.perMetric![metric] =
      unit === '%' ? { relative: value / 100, absolute: 0 } : { relative: 0, absolute: unit === 's' ? value * 1000 : value };
  }
  return out;
}

export type Judgement = 'better' | 'worse' | 'same' | null;

export interface CompareRow {
  metric: string;
  kind: MetricKind;
  a: number | null;
  b: number | null;
  delta: number | null;
  /** (b − a) ÷ a; null when a is 0 or either side has no data. */
  change: number | null;
  judgement: Judgement;
  band: Band;
}

export interface Comparison {
  a: { runId: string; startedAt: string; devices: number; durationSec: number; outcome: string };
  b: { runId: string; startedAt: string; devices: number; durationSec: number; outcome: string };
  rows: CompareRow[];
  verdict: 'better' | 'worse' | 'same';
  /** Setup differences that make the runs hard to compare (devices, interval, QoS…). */
  caveats: string[];
}

function judge(dir: Direction, a: number | null, b: number | null, band: Band): Judgement {
  if (dir === null || a === null || b === null) return null;
  const allowed = Math.max(band.relative * Math.abs(a), band.absolute);
  const d = b - a;
  if (Math.abs(d) <= allowed) return 'same';
  return d > 0 === (dir === 'higher') ? 'better' : 'worse';
}

function caveats(a: RunReport, b: RunReport): string[] {
  const out: string[] = [];
  const diff = (what: string, x: unknown, y: unknown) => {
    if (x !== y) out.push(`${what} differs: ${String(x)} vs ${String(y)}`);
  };
  diff('devices', a.metrics.connections.configured, b.metrics.connections.configured);
  diff('publish interval (s)', a.metrics.target.publishIntervalSec, b.metrics.target.publishIntervalSec);
  diff('QoS', a.metrics.target.qos, b.metrics.target.qos);
  diff('MQTT version', a.metrics.target.mqttVersion, b.metrics.target.mqttVersion);
  if (Math.abs(a.durationSec - b.durationSec) > 0.1 * Math.max(a.durationSec, b.durationSec))
    out.push(
      `duration differs: ${duration(a.durationSec)} vs ${duration(b.durationSec)} (counts are not comparable; rates and ratios are)`,
    );
  for (const [name, r] of [
    ['A', a],
    ['B', b],
  ] as const) {
    if (r.outcome === 'partial') out.push(`run ${name} is partial: ${PARTIAL_NOTE} (${r.metrics.at})`);
  }
  for (const [name, r] of [
    ['A', a],
    ['B', b],
  ] as const)
    if (r.metrics.generator.verdict !== 'ok')
      out.push(`run ${name}: the generator was ${r.metrics.generator.verdict}, so its latencies include the lab's own lag`);
  // ThingsBoard's own verdict (report `server`), when either run has one and they differ
  const tier = (r: RunReport) => r.server?.verdict?.tier ?? 'not read';
  if ((a.server || b.server) && tier(a) !== tier(b))
    out.push(`ThingsBoard's verdict (server.verdict.tier) differs: A ${tier(a)}, B ${tier(b)}`);
  return out;
}

export function compareRuns(a: RunReport, b: RunReport, opts: BandOptions = {}): Comparison {
  const ia = thresholdInputFromReport(a);
  const ib = thresholdInputFromReport(b);
  const extra = workloadCompareRows(a.workloads, b.workloads).filter(([m]) => isThresholdMetric(m));
  const rows: CompareRow[] = [...ROWS, ...extra]
    .map(([metric, dir]) => {
      const def = THRESHOLD_METRICS[metric];
      const va = def.read(ia);
      const vb = def.read(ib);
      const band = opts.perMetric?.[metric] ?? { relative: opts.relative ?? DEFAULT_RELATIVE_BAND, absolute: ABSOLUTE_FLOOR[def.kind] };
      return {
        metric,
        kind: def.kind,
        a: va,
        b: vb,
        delta: va !== null && vb !== null ? vb - va : null,
        change: va !== null && vb !== null && va !== 0 ? (vb - va) / Math.abs(va) : null,
        judgement: judge(dir, va, vb, band),
        band,
      };
    })
    .filter((r) => r.a !== null || r.b !== null);
  const worse = rows.some((r) => r.judgement === 'worse');
  const better = rows.some((r) => r.judgement === 'better');
  const head = (r: RunReport) => ({
    runId: r.runId,
    startedAt: r.startedAt,
    devices: r.metrics.connections.configured,
    durationSec: r.durationSec,
    outcome: r.outcome,
  });
  return { a: head(a), b: head(b), rows, verdict: worse ? 'worse' : better ? 'better' : 'same', caveats: caveats(a, b) };
}

/** A delta with its sign; a ratio's delta is in percentage points. */
const signed = (kind: MetricKind, v: number | null) =>
  v === null
    ? '—'
    : (v > 0 ? '+' : v < 0 ? '-' : '±') + (kind === 'ratio' ? `${num(Math.abs(v) * 100, 4)} pp` : formatMetricValue(kind, Math.abs(v)));
const bandText = (r: CompareRow) =>
  r.band.relative > 0 ? `${num(r.band.relative * 100, 2)}%` : formatMetricValue(r.kind, r.band.absolute);

/** The side-by-side table, caveats and the verdict line (`Verdict: B is worse than A: …`). */
export function renderComparison(c: Comparison): string {
  const rows = c.rows.map((r) => [
    r.metric,
    formatMetricValue(r.kind, r.a),
    formatMetricValue(r.kind, r.b),
    signed(r.kind, r.delta),
    r.change === null ? '—' : `${r.change >= 0 ? '+' : ''}${num(r.change * 100, 1)}%`,
    r.judgement ?? '',
  ]);
  const head = (label: string, h: Comparison['a']) =>
    `${label}: ${h.runId}  (${h.startedAt}, ${num(h.devices)} devices, ${duration(h.durationSec)}, ${h.outcome})`;
  const list = (j: Judgement) =>
    c.rows
      .filter((r) => r.judgement === j)
      .map(
        (r) =>
          `${r.metric} ${r.change === null ? signed(r.kind, r.delta) : `${r.change >= 0 ? '+' : ''}${num(r.change * 100, 1)}%`} (band ${bandText(r)})`,
      );
  const worse = list('worse'),
    better = list('better');
  const verdict =
    c.verdict === 'same'
      ? 'Verdict: same — every judged change is within its noise band'
      : `Verdict: B is ${c.verdict} than A` +
        (worse.length ? ` — worse: ${worse.join(', ')}` : '') +
        (better.length ? `${worse.length ? ';' : ' —'} better: ${better.join(', ')}` : '');
  return [
    head('A', c.a),
    head('B', c.b),
    '',
    renderTable(['metric', 'A', 'B', 'delta', 'change', 'judgement'], rows, { align: ['l', 'r', 'r', 'r', 'r', 'l'] }),
    ...(c.caveats.length ? ['', 'Caveats:', ...c.caveats.map((x) => `  - ${x}`)] : []),
    '',
    verdict,
    '',
  ].join('\n');
}
