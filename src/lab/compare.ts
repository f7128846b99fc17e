// `tblab compare A B`: read two reports, compare them within the noise bands, print the table
// and the verdict; with --fail-on-worse a worse B is an exit code a CI job can act on.
import { readReport, resolveReportPath } from '../report/read.js';
import { compareLimits, readLimitReportIf, renderLimitComparison } from './limit/report.js';
import { compareRuns, renderComparison, parseBands } from '../report/compare.js';
import { PARTIAL_NOTE } from '../report/schema.js';
import { ExitCode, LabError } from '../common/errors.js';
import type { LabContext } from './context.js';

export interface CompareOptions {
  dataDir: string;
  /** Baseline: run id, `latest` or a report path. */
  a: string;
  /** Candidate. */
  b: string;
  /** --band values: `5%`, `ack_p99=10%`, `ack_p99=20ms`. */
  bands: readonly string[];
  json: boolean;
  /** Exit THRESHOLDS_FAILED (5) when B is worse than A. */
  failOnWorse: boolean;
}

export function compareReports(ctx: LabContext, o: CompareOptions): number {
  const bands = parseBands(o.bands);
  // two `tblab limit` reports: did the limit move? (docs/limit.md)
  const [la, lb] = [o.a, o.b].map((ref) => readLimitReportIf(resolveReportPath(o.dataDir, ref, ctx.cwd)));
  if (la && lb) {
    const c = compareLimits(la, lb);
    ctx.stdout.write(o.json ? JSON.stringify(c, null, 2) + '\n' : renderLimitComparison(c));
    return o.failOnWorse && c.moved === 'down' ? ExitCode.THRESHOLDS_FAILED : ExitCode.OK;
  }
  if (la || lb) {
    throw new LabError('REPORT_INVALID', {
      message: `${la ? o.a : o.b} is a limit report and ${la ? o.b : o.a} is not: compare two limit searches or two runs`,
      hint: 'Limit reports are data/runs/limit-<time>.json; pass two of them.',
    });
  }
  const a = readReport(o.dataDir, o.a, ctx.cwd);
  const b = readReport(o.dataDir, o.b, ctx.cwd);
  const c = compareRuns(a.report, b.report, bands);
  for (const [name, r] of [
    ['A', a],
    ['B', b],
  ] as const) {
    if (r.report.outcome === 'partial') ctx.stderr.write(`compare: warning: ${name} (${r.report.runId}) is partial: ${PARTIAL_NOTE}\n`);
  }
  if (o.json) ctx.stdout.write(JSON.stringify({ files: { a: a.path, b: b.path }, ...c }, null, 2) + '\n');
  else ctx.stdout.write(renderComparison(c));
  if (o.failOnWorse && c.verdict === 'worse') {
    ctx.stderr.write(`compare: B (${c.b.runId}) is worse than A (${c.a.runId}) beyond the noise bands\n`);
    return ExitCode.THRESHOLDS_FAILED;
  }
  return ExitCode.OK;
}
