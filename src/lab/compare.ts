// `tblab compare A B`: read two reports, compare them within the noise bands, print the table
// and the verdict; with --fail-on-worse a worse B is an exit code a CI job can act on.
import { readReport } from '../report/read.js';
import { compareRuns, renderComparison, parseBands } from '../report/compare.js';
import { PARTIAL_NOTE } from '../report/schema.js';
import { ExitCode } from '../shared/errors.js';
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
  const a = readReport(o.dataDir, o.a, ctx.cwd);
  const b = readReport(o.dataDir, o.b, ctx.cwd);
  const c = compareRuns(a.report, b.report, bands);
  for (const [name, r] of [['A', a], ['B', b]] as const) {
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
