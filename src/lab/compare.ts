// `tblab compare A B`: read two reports, compare them within the noise bands, print the table
// and the verdict; with --fail-on-worse a worse B is an exit code a CI job can act on.
import { readReport } from '../report/read.js';
import { compareRuns, renderComparison, parseBands } from '../report/compare.js';
import { ExitCode } from '../shared/errors.js';

export interface CompareOptions {
  dataDir: string;
  cwd: string;
  /** Baseline: run id, `latest` or a report path. */
  a: string;
  /** Candidate. */
  b: string;
  /** --band values: `5%`, `ack_p99=10%`, `ack_p99=20ms`. */
  bands: readonly string[];
  json: boolean;
  /** Exit THRESHOLDS_FAILED (5) when B is worse than A. */
  failOnWorse: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export function compareReports(o: CompareOptions): number {
  const bands = parseBands(o.bands);
  const a = readReport(o.dataDir, o.a, o.cwd);
  const b = readReport(o.dataDir, o.b, o.cwd);
  const c = compareRuns(a.report, b.report, bands);
  if (o.json) o.out.write(JSON.stringify({ files: { a: a.path, b: b.path }, ...c }, null, 2) + '\n');
  else o.out.write(renderComparison(c));
  if (o.failOnWorse && c.verdict === 'worse') {
    o.err.write(`compare: B (${c.b.runId}) is worse than A (${c.a.runId}) beyond the noise bands\n`);
    return ExitCode.THRESHOLDS_FAILED;
  }
  return ExitCode.OK;
}
