// `tblab report`: the summary of one run (default: the latest), optionally re-judged with
// --threshold expressions after the fact (a CI gate on a report written earlier).
import { readReport, resolveReportPath } from '../report/read.js';
import { readLimitReportIf, renderLimitReport } from './limit/report.js';
import { summarize, renderSummary } from '../report/summary.js';
import { evaluateReport, renderThresholds } from '../report/thresholds.js';
import { parseThresholds } from '../metrics/thresholds.js';
import { ExitCode } from '../common/errors.js';
import type { LabContext } from './context.js';

export interface ReportOptions {
  dataDir: string;
  /** Run id, `latest` or a path to a report file. */
  ref: string;
  /** Print the summary as JSON. */
  json: boolean;
  /** Threshold expressions to evaluate against this report (replaces the stored results in the output). */
  thresholds: readonly string[];
}

/** Prints the summary; returns THRESHOLDS_FAILED when a given threshold fails, else OK. */
export function reportRun(ctx: LabContext, o: ReportOptions): number {
  const thresholds = parseThresholds(o.thresholds);
  // a `tblab limit` report: its step table and verdict (docs/limit.md)
  const limitPath = resolveReportPath(o.dataDir, o.ref, ctx.cwd);
  const limit = readLimitReportIf(limitPath);
  if (limit) {
    ctx.stdout.write(o.json ? JSON.stringify({ file: limitPath, ...limit }, null, 2) + '\n' : renderLimitReport(limit, limitPath));
    return ExitCode.OK;
  }
  const { path, report } = readReport(o.dataDir, o.ref, ctx.cwd);
  if (thresholds.length) report.thresholds = evaluateReport(thresholds, report);
  const s = summarize(report);
  if (o.json) ctx.stdout.write(JSON.stringify({ file: path, ...s }, null, 2) + '\n');
  else ctx.stdout.write(`Report ${path}\n\n${renderSummary(report, s)}`);
  const failed = (report.thresholds ?? []).filter((t) => !t.ok);
  if (thresholds.length && failed.length) {
    if (o.json) ctx.stderr.write(renderThresholds(report.thresholds ?? []) + '\n');
    ctx.stderr.write(`thresholds failed: ${failed.map((t) => t.expression).join(', ')}\n`);
    return ExitCode.THRESHOLDS_FAILED;
  }
  return ExitCode.OK;
}

export interface ServeOptions {
  dataDir: string;
  ref: string;
  host: string;
  /** 0 = any free port. */
  port: number;
}

/** `tblab report --serve`: the run's dashboard (charts of the whole timeline) until Ctrl+C. */
export async function serveRun(ctx: LabContext, o: ServeOptions): Promise<void> {
  const { path, report } = readReport(o.dataDir, o.ref, ctx.cwd);
  let off = () => {};
  const untilStopped = new Promise((resolve) => {
    off = ctx.onSignal(resolve);
  });
  const { serveReportDashboard, exposureWarning } = await import('../dashboard/index.js');
  const dash = await serveReportDashboard(path, { host: o.host, port: o.port });
  ctx.stderr.write(`report ${report.runId}: dashboard at ${dash.url} (Ctrl+C to stop)\n`);
  const exposed = exposureWarning(o.host);
  if (exposed) ctx.stderr.write(exposed + '\n');
  try {
    await untilStopped;
  } finally {
    off();
    await dash.close();
  }
}
