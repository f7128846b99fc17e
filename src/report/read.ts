// Finding and reading run reports: <run-id>.json and latest.json in the runs folders of DATA_DIR
// (src/common/data-dirs.ts: the real server's, then the embedded emulator's).
// A reference is a run id, `latest`, or a path to a report file.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LabError } from '../common/errors.js';
import { reportPathsFor } from '../common/data-dirs.js';
import { REPORT_SCHEMA_VERSION, type RunReport } from './schema.js';

export const runsDir = (dataDir: string) => join(dataDir, 'runs');

/** Run ids in data/runs, newest first (by file time). */
export function listRuns(dataDir: string): string[] {
  const dir = runsDir(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'latest.json' && !f.startsWith('.'))
    .map((f) => ({ id: f.slice(0, -5), t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : -1))
    .map((r) => r.id);
}

/** The file a reference points to: `latest`, a run id, or a path (relative to cwd). */
export function resolveReportPath(dataDir: string, ref: string, cwd: string): string {
  if (ref.endsWith('.json') || ref.includes('/') || ref.includes('\\')) return resolve(cwd, ref);
  const file = ref === 'latest' || ref === '' ? 'latest.json' : `${ref}.json`;
  const candidates = reportPathsFor(dataDir, file);
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}

/** Reads and checks a report; RUN_NOT_FOUND names what exists, REPORT_INVALID says what is wrong. */
export function readReport(dataDir: string, ref: string, cwd: string = process.cwd()): { path: string; report: RunReport } {
  const path = resolveReportPath(dataDir, ref, cwd);
  if (!existsSync(path)) {
    const runs = listRuns(dataDir).slice(0, 5);
    throw new LabError('RUN_NOT_FOUND', {
      message: `No run report ${JSON.stringify(ref || 'latest')} (looked for ${path})`,
      hint: runs.length
        ? `Recent runs in ${runsDir(dataDir)}: ${runs.join(', ')} (or use latest).`
        : `${runsDir(dataDir)} holds no reports yet: run \`tblab run\` or \`tblab suite\` first.`,
    });
  }
  return { path, report: readReportAt(path) };
}

/** Reads and checks the report file at `path` (REPORT_INVALID says what is wrong). */
export function readReportAt(path: string): RunReport {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LabError('REPORT_INVALID', { message: `${path} is not valid JSON: ${(e as Error).message}` });
  }
  const r = data as Partial<RunReport> | null;
  if (!r || typeof r !== 'object' || r.tool !== 'tb-load-lab' || typeof r.runId !== 'string' || typeof r.metrics !== 'object') {
    throw new LabError('REPORT_INVALID', { message: `${path} is not a tb-load-lab run report (no tool/runId/metrics)` });
  }
  if (typeof r.schemaVersion !== 'number' || r.schemaVersion > REPORT_SCHEMA_VERSION) {
    throw new LabError('REPORT_INVALID', {
      message: `${path} has report schemaVersion ${String(r.schemaVersion)}; this tblab reads up to ${REPORT_SCHEMA_VERSION}`,
      hint: 'Use the tblab version that wrote the report, or a newer one.',
    });
  }
  const problem = shapeProblem(r);
  if (problem) {
    throw new LabError('REPORT_INVALID', {
      message: `${path} is not a complete run report: ${problem}`,
      hint: 'The file was edited or cut short: use the report file the run wrote (data/runs/<run-id>.json).',
    });
  }
  return r as RunReport;
}

type Kind = 'object' | 'array' | 'number' | 'string' | 'null' | 'missing';

/**
 * The sections `report`, `compare`, `merge` and the dashboard read, with the JSON types they may
 * have (`missing`: readers do without it).
 */
const SHAPE: Array<[string, Kind[]]> = [
  ['outcome', ['string']],
  ['durationSec', ['number', 'missing']],
  ['startedAt', ['string', 'missing']],
  ['config', ['object']],
  ['metrics.connections', ['object']],
  ['metrics.traffic', ['object']],
  ['metrics.latency', ['object']],
  ['metrics.latency.ackMs', ['object']],
  ['metrics.latency.connectMs', ['object']],
  ['metrics.latency.scheduleLagMs', ['object']],
  ['metrics.disconnects', ['object']],
  ['metrics.errors', ['object']],
  ['metrics.generator', ['object']],
  ['timeline', ['array']],
  ['devices', ['object']],
  ['histograms', ['object', 'missing']],
  ['delivery', ['object', 'null', 'missing']],
  ['thresholds', ['array', 'null', 'missing']],
  ['server', ['object', 'null', 'missing']],
  ['server.verdict', ['object', 'missing']],
  ['server.verdict.evidence', ['array', 'missing']],
  ['server.series', ['array', 'missing']],
  ['server.notVisible', ['array', 'missing']],
];

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** The first section of `r` that is missing or of the wrong type (`metrics.latency is null, expected object`). */
function shapeProblem(r: object): string | null {
  for (const [path, want] of SHAPE) {
    let v: unknown = r;
    for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    const got = (v === undefined ? 'missing' : kindOf(v)) as Kind;
    if (!want.includes(got)) return `${path} is ${got}, expected ${want.filter((k) => k !== 'missing').join(' or ')}`;
  }
  const bad = (r as RunReport).timeline.findIndex((p) => kindOf(p) !== 'object');
  if (bad >= 0) return `timeline[${bad}] is ${kindOf((r as RunReport).timeline[bad])}, expected object`;
  const dev = Object.entries((r as RunReport).devices).find(([, d]) => kindOf(d) !== 'object');
  return dev ? `devices["${dev[0]}"] is ${kindOf(dev[1])}, expected object` : null;
}
