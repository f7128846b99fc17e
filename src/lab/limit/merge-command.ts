// `tblab report merge` of a split limit search: finds the instances' limit reports among the
// arguments (files, limit ids, or a folder whose newest instance report is a limit report), merges
// them (merge.ts), writes data/runs/limit-<RUN_ID>-merged.json and prints the step table and verdict.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LabError } from '../../common/errors.js';
import type { LabContext } from '../context.js';
import { say } from '../context.js';
import { readLimitReportIf, renderLimitReport, writeLimitReport } from './report.js';
import { mergeLimitReports, type LimitMergeInput } from './merge.js';

/** The run id of a step of a split search (`<RUN_ID>-step3-i1of2`, instances.ts). */
export const isLimitStepRunId = (runId: string): boolean => /-step\d+-i\d+of\d+$/.test(runId);

const runsDir = (dataDir: string) => join(dataDir, 'runs');

/** Start time of the newest instance report in `dir` that is a plain run (not a step of a split search). */
function newestInstanceRun(dir: string, names: string[]): number {
  let newest = -Infinity;
  for (const name of names) {
    try {
      const r = JSON.parse(readFileSync(join(dir, name), 'utf8')) as {
        kind?: string;
        runId?: string;
        instance?: string | null;
        startedAt?: string;
        mergedFrom?: unknown;
      };
      if (r.kind === 'limit' || !r.instance || r.mergedFrom || typeof r.runId !== 'string' || isLimitStepRunId(r.runId)) continue;
      newest = Math.max(newest, Date.parse(r.startedAt ?? ''));
    } catch {
      // not JSON: not a report
    }
  }
  return newest;
}

/** The newest split search's instance limit reports in `dir`, unless a plain instance run is newer. */
function fromFolder(dir: string): LimitMergeInput[] | null {
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.json') && !n.startsWith('.') && n !== 'latest.json')
    .sort();
  const limits = names
    .map((n) => ({ source: join(dir, n), report: readLimitReportIf(join(dir, n)) }))
    .filter((l): l is LimitMergeInput => l.report?.schedule !== undefined);
  if (limits.length === 0) return null;
  const newest = limits.reduce((a, b) => (Date.parse(b.report.startedAt) > Date.parse(a.report.startedAt) ? b : a));
  if (newestInstanceRun(dir, names) > Date.parse(newest.report.startedAt)) return null;
  return limits.filter((l) => l.report.schedule!.runId === newest.report.schedule!.runId);
}

/** The limit reports to merge, or null when the arguments are run reports (the run merge takes them). */
export function findLimitInputs(args: readonly string[], dataDir: string, cwd: string): LimitMergeInput[] | null {
  if (args.length === 0) return existsSync(runsDir(dataDir)) ? fromFolder(runsDir(dataDir)) : null;
  if (args.length === 1) {
    const p = resolve(cwd, args[0]);
    if (existsSync(p) && statSync(p).isDirectory()) return fromFolder(p);
  }
  const found = args.map((arg) => {
    const p = resolve(cwd, arg);
    const byId = join(runsDir(dataDir), `${arg}.json`);
    const file = existsSync(p) || !/^[\w.-]+$/.test(arg) || !existsSync(byId) ? p : byId;
    return { source: file, report: existsSync(file) && statSync(file).isFile() ? readLimitReportIf(file) : null };
  });
  const limits = found.filter((f): f is LimitMergeInput => f.report !== null);
  if (limits.length === 0) return null;
  if (limits.length < found.length) {
    throw new LabError('MERGE_CONFLICT', {
      message: `${found.find((f) => f.report === null)!.source} is not a limit report, ${limits[0].source} is: merge limit reports or run reports, not both`,
    });
  }
  return limits;
}

/** Merges, writes, and prints the step table and the verdict (`json`: the merged limit report on stdout). */
export function limitMergeCommand(
  ctx: LabContext,
  inputs: LimitMergeInput[],
  o: { dataDir: string; allowPartial: boolean; json: boolean },
): void {
  const { report, warnings } = mergeLimitReports(inputs, { allowPartial: o.allowPartial });
  for (const w of warnings) say(ctx, `warning: ${w}`);
  const path = writeLimitReport(o.dataDir, report);
  say(ctx, `merged ${inputs.length} instance limit reports (${report.mergedFrom?.join(', ')})`);
  say(ctx, `  written to ${path}`);
  ctx.stdout.write(o.json ? JSON.stringify(report) + '\n' : renderLimitReport(report, path));
}
