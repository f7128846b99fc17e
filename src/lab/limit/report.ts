// The limit report: one JSON file in the runs folder (`limit-<time>.json`) with the verdict and
// every step (load asked and reached, each objective's value and verdict), the step table that
// `tblab limit` and `tblab report` print, and `tblab compare` of two searches (did the limit move?).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../common/fs.js';
import { renderTable, num } from '../../report/table.js';
import { formatValue, STEP_METRICS } from './slo.js';
import type { LimitStep, LimitVerdict } from './types.js';
import { limitServerLines } from './server-triage.js';
import type { LimitSchedule } from './instances.js';
import type { MergedLadder } from './merge.js';

export const LIMIT_REPORT_SCHEMA_VERSION = 1;

export interface LimitReport {
  tool: 'tb-load-lab';
  kind: 'limit';
  schemaVersion: number;
  limitId: string;
  startedAt: string;
  endedAt: string;
  /** True when SIGINT/SIGTERM/`tblab stop` ended the search early: the verdict covers the steps run. */
  aborted: boolean;
  target: { tbUrl: string; mqtt: string; embedded: boolean };
  /** The fixed part of every step's load. */
  setup: { devices: number; qos: number; shards: number; publishIntervalSec: number; connectRate: number };
  /** Run ids of the steps' own reports (same runs folder). */
  stepRuns: string[];
  limit: LimitVerdict;
  /** `--instance i/N`: the shared ladder and what this instance did at each step (instances.ts). */
  schedule?: LimitSchedule;
  /** A merged search (`tblab report merge`): the instances' limit ids, and the ladder per instance. */
  mergedFrom?: string[];
  instances?: MergedLadder;
}

/** `limit-20261202T165900Z`. */
export const limitIdAt = (ms: number) =>
  'limit-' +
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export function writeLimitReport(dataDir: string, r: LimitReport): string {
  const path = join(dataDir, 'runs', `${r.limitId}.json`);
  writeJsonAtomic(path, r);
  return path;
}

/** The limit report at `path`, or null when the file is missing, not JSON or another kind (a run report). */
export function readLimitReportIf(path: string): LimitReport | null {
  if (!existsSync(path)) return null;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  const r = data as Partial<LimitReport> | null;
  if (!r || r.tool !== 'tb-load-lab' || r.kind !== 'limit' || typeof r.limit !== 'object' || !Array.isArray(r.limit?.steps)) return null;
  return r as LimitReport;
}

function objective(s: LimitStep, name: string): string {
  const o = s.objectives.find((x) => x.name === name);
  const v =
    o?.value ?? (name === 'ack_p50' ? s.measurement.ackP50Ms : name === 'connect_p99' ? (s.measurement.connectP99Ms ?? null) : null);
  if (v === null || v === undefined) return '—';
  const text = formatValue(STEP_METRICS[name].kind, v);
  return o?.verdict === 'fail' ? `${text} ✗` : text;
}

/** One row a step: load asked and reached, the main objectives (✗ = failed), its verdict. */
export function renderStepTable(v: LimitVerdict): string {
  // the triage tier of each step, when ThingsBoard's statistics were read (server-triage.ts)
  const withServer = v.steps.some((s) => s.measurement.server);
  // a search that connects devices at every step also shows how long connecting took
  const connects = v.vary !== 'rate';
  const head = [
    '#',
    'phase',
    `asked ${v.unit}`,
    'reached',
    'msg/s',
    'PUBACK p50',
    'PUBACK p99',
    'ingest p99',
    ...(connects ? ['connect p99'] : []),
    'backlog',
    'lost',
    'verdict',
    ...(withServer ? ['ThingsBoard'] : []),
  ];
  const rows = v.steps.map((s) => [
    String(s.index + 1),
    s.phase,
    num(s.asked),
    num(s.reached, 1),
    num(s.sentPerSec, 1),
    objective(s, 'ack_p50'),
    objective(s, 'ack_p99'),
    objective(s, 'ingest_p99'),
    ...(connects ? [objective(s, 'connect_p99')] : []),
    objective(s, 'backlog_growth'),
    s.measurement.lost === null
      ? '—'
      : `${num(s.measurement.lost)}${s.objectives.some((o) => o.name === 'lost' && o.verdict === 'fail') ? ' ✗' : ''}`,
    s.retried ? 'fail (retried)' : s.passed ? 'pass' : `FAIL${s.tier ? ` (${s.tier})` : ''}`,
    ...(withServer ? [s.measurement.server?.tier ?? '—'] : []),
  ]);
  return renderTable(head, rows);
}

/** What a split search's report covers: one instance's share, or the merged shares. */
function splitLines(r: LimitReport): string[] {
  if (r.schedule) {
    return [
      `instance ${r.schedule.instance} of RUN_ID ${r.schedule.runId}: this instance's share of each ladder step (loads below are its share);`,
      `the fleet's verdict: \`tblab report merge\` of every instance's limit report`,
    ];
  }
  if (r.instances) return [`merged from ${r.mergedFrom?.join(', ')}: loads are the sum over the instances`];
  return [];
}

export function renderLimitReport(r: LimitReport, path: string): string {
  const v = r.limit;
  const lines = [
    `Limit search ${r.limitId}${r.aborted ? ' (stopped early)' : ''}: --vary ${v.vary}, ${r.setup.devices} devices, QoS ${r.setup.qos}`,
    `file ${path}`,
    ...splitLines(r),
    '',
    renderStepTable(v),
    '',
    `verdict (${v.outcome}): ${v.sentence}`,
    ...limitServerLines(v),
  ];
  if (v.remedy && !v.sentence.includes(v.remedy)) lines.push(`remedy: ${v.remedy}`);
  return lines.join('\n') + '\n';
}

export interface LimitComparison {
  a: { limitId: string; sustained: number | null; sustainedPerSec: number | null; firstBroken: string | null; tier: string | null };
  b: LimitComparison['a'];
  /** (B − A) ÷ A of sustainedPerSec; null when either found none. */
  change: number | null;
  /** `up`/`down` when the change exceeds the coarser search's resolution, else `same`; `unknown` without both figures. */
  moved: 'up' | 'down' | 'same' | 'unknown';
  sentence: string;
}

export function compareLimits(a: LimitReport, b: LimitReport): LimitComparison {
  const side = (r: LimitReport) => ({
    limitId: r.limitId,
    sustained: r.limit.sustained,
    sustainedPerSec: r.limit.sustainedPerSec,
    firstBroken: r.limit.firstBroken,
    tier: r.limit.tier,
  });
  const [x, y] = [a.limit.sustainedPerSec, b.limit.sustainedPerSec];
  const change = x !== null && y !== null && x > 0 ? (y - x) / x : null;
  const band = Math.max(a.limit.resolution, b.limit.resolution);
  const moved = change === null ? 'unknown' : change > band ? 'up' : change < -band ? 'down' : 'same';
  const pct = change === null ? '' : ` (${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} %)`;
  const figures = `${num(x, 1)} → ${num(y, 1)} msg/s sustained${pct}`;
  const what =
    moved === 'unknown'
      ? 'cannot tell whether the limit moved: a search found no sustained load'
      : moved === 'same'
        ? `the limit did not move beyond the search resolution (${(band * 100).toFixed(0)} %)`
        : `the limit moved ${moved}`;
  const broke =
    a.limit.firstBroken === b.limit.firstBroken && a.limit.tier === b.limit.tier
      ? `; both broke on ${b.limit.firstBroken ?? '—'} (${b.limit.tier ?? '—'})`
      : `; first broken ${a.limit.firstBroken ?? '—'} (${a.limit.tier ?? '—'}) → ${b.limit.firstBroken ?? '—'} (${b.limit.tier ?? '—'})`;
  return { a: side(a), b: side(b), change, moved, sentence: `${figures}: ${what}${broke}` };
}

export function renderLimitComparison(c: LimitComparison): string {
  const row = (name: string, f: (s: LimitComparison['a']) => string) => [name, f(c.a), f(c.b)];
  const table = renderTable(
    ['', `A ${c.a.limitId}`, `B ${c.b.limitId}`],
    [
      row('sustained', (s) => num(s.sustained)),
      row('sustained msg/s', (s) => num(s.sustainedPerSec, 1)),
      row('first broken', (s) => s.firstBroken ?? '—'),
      row('tier', (s) => s.tier ?? '—'),
    ],
    { align: ['l', 'r', 'r'] },
  );
  return `${table}\n\nverdict: ${c.sentence}\n`;
}
