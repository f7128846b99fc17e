// `tblab report --serve <run>`: a finished run's report shown in the live dashboard's page,
// from the report's `metrics` (the same snapshot shape) and its full `timeline` for the charts.
import { existsSync } from 'node:fs';
import type { MetricsSnapshot, SeriesPoint } from '../../metrics/snapshot.js';
import type { RunReport, TimelinePoint } from '../../report/schema.js';
import { readReportAt } from '../../report/read.js';
import { LabError } from '../../common/errors.js';
import { buildDashboard, type Dashboard } from './dashboard.js';

/** Charts stay smooth with this many points; longer timelines are thinned evenly. */
const MAX_POINTS = 600;

export interface ServeReportOptions {
  /** Bind address. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 = any free port. Default 5050. */
  port?: number;
}

/** Timeline (one point per second) → chart series, with failed/s from the counter deltas. */
export function timelineToSeries(timeline: TimelinePoint[]): SeriesPoint[] {
  const stride = Math.max(1, Math.ceil(timeline.length / MAX_POINTS));
  const out: SeriesPoint[] = [];
  for (let i = 0; i < timeline.length; i += stride) {
    const p = timeline[i];
    const prev = i > 0 ? timeline[i - 1] : null;
    const dt = prev ? Math.max(1e-3, p.t - prev.t) : 1;
    out.push({
      t: p.t,
      ts: p.ts,
      sentPerSec: p.sentPerSec,
      ackedPerSec: p.ackedPerSec,
      failedPerSec: prev ? Math.max(0, p.failed - prev.failed) / dt : 0,
      mbpsOut: p.mbpsOut,
      connected: p.connected,
      ackP99Ms: p.ackP99Ms,
      scheduleLagP99Ms: p.scheduleLagP99Ms,
    });
  }
  return out;
}

/** Serves `report` in the dashboard page until close(). Returns the listening dashboard. */
export async function serveReport(report: RunReport, opts: ServeReportOptions = {}): Promise<Dashboard> {
  const dash = buildDashboard({ host: opts.host, port: opts.port, runId: report.runId, instance: report.instance, mode: 'report' });
  const metrics: MetricsSnapshot =
    report.timeline.length > 0 ? { ...report.metrics, series: timelineToSeries(report.timeline) } : report.metrics;
  dash.setFinal({ ...report, metrics });
  await dash.listen();
  return dash;
}

/** Reads a report file (data/runs/<run-id>.json) and serves it; the CLI resolves `latest`/ids to a path. */
export async function serveReportDashboard(
  reportPath: string,
  opts: ServeReportOptions = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  if (!existsSync(reportPath)) throw new LabError('RUN_NOT_FOUND', { message: `No report at ${reportPath}` });
  const report = readReportAt(reportPath);
  if (!Array.isArray(report.timeline)) throw new LabError('REPORT_INVALID', { message: `${reportPath} has no timeline to chart` });
  const dash = await serveReport(report, opts);
  return { url: dash.url!, close: () => dash.close() };
}
