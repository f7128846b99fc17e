// The run report, built from the engine's results and the sections the sinks return. Every
// section has one owner: two sinks returning the same section is an error, so the order in which
// sinks are attached can change nothing in the report.
import { hostname, platform, cpus, totalmem } from 'node:os';
import type { MetricsSnapshot } from '../metrics/snapshot.js';
import type { RunResults } from '../metrics/records.js';
import { TOOL_VERSION } from '../common/version.js';
import { judgeOutcome } from './outcome.js';
import { lastPublishOf, reattributeDeadServer } from '../metrics/attribution.js';
import { REPORT_SCHEMA_VERSION, type DeliveryReport, type RunReport, type ServerSection, type ThresholdResult } from './schema.js';

/** The parts of a report a sink may own. */
export interface ReportSections {
  /** `delivery`: the delivery check's reconciliation. */
  delivery?: DeliveryReport;
  /** `metrics.delivery` of the final snapshot (the delivery check's summary of it). */
  metricsDelivery?: MetricsSnapshot['delivery'];
  /** `histograms.ingestLatencyMs`. */
  ingestLatencyHistogram?: string | null;
  /** `thresholds`: the final evaluation. */
  thresholds?: ThresholdResult[];
  /** `server`: ThingsBoard's own statistics and the triage verdict (src/lab/server-stats-run-sink.ts). */
  server?: ServerSection | null;
  /** `files.log`: the run log, relative to the data folder. */
  runLog?: string;
}

export interface OwnedSections {
  /** The sink that returned them (named in a conflict). */
  owner: string;
  sections: ReportSections;
}

/** One set of sections out of many; a section returned by two owners is a programming error. */
export function mergeSections(parts: readonly OwnedSections[]): ReportSections {
  const out: Record<string, unknown> = {};
  const owners: Record<string, string> = {};
  for (const { owner, sections } of parts) {
    for (const [key, value] of Object.entries(sections)) {
      if (value === undefined) continue;
      if (key in owners) throw new Error(`report section ${key} returned by both ${owners[key]} and ${owner}`);
      owners[key] = owner;
      out[key] = value;
    }
  }
  return out as ReportSections;
}

export interface ReportMeta {
  /** The configuration with secrets removed. */
  config: Record<string, unknown>;
  /** The final merged snapshot with the live sections of the sinks (default: `results.final`). */
  metrics?: MetricsSnapshot;
}

/** The report of `results`: outcome `partial` for a checkpoint (no end time). */
export function buildReport(results: RunResults, meta: ReportMeta, sections: ReportSections = {}): RunReport {
  const partial = results.outcome === 'partial';
  const base = meta.metrics ?? results.final;
  const judged = judgeOutcome(results, base);
  const state = judged.outcome === 'failed' ? 'failed' : base.state;
  const composed = { ...base, state, ...(sections.metricsDelivery !== undefined ? { delivery: sections.metricsDelivery } : {}) };
  // a dead server is not a rate limit: closes "after a publish" with nothing alive afterwards are the server's end
  const evidence = {
    startedAt: results.startedAt,
    timeline: results.timeline,
    publishIntervalSec: base.target.publishIntervalSec,
    lastPublishAt: lastPublishOf(results.devices),
  };
  const { devices, metrics, moved } = partial
    ? { devices: results.devices, metrics: composed, moved: 0 }
    : reattributeDeadServer(results.devices, composed, evidence);
  if (moved > 0) {
    const note =
      `${moved} close(s) right after a publish are counted as \`server closed\`, not as a rate limit: ` +
      'nothing was sent or acknowledged after them (the server went away)';
    metrics.generator = { ...metrics.generator, notes: [...metrics.generator.notes, note] };
  }
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: 'tb-load-lab',
    toolVersion: TOOL_VERSION,
    runId: results.runId,
    instance: metrics.instance,
    startedAt: new Date(results.startedAt).toISOString(),
    endedAt: partial ? null : new Date(results.endedAt).toISOString(),
    durationSec: Math.round((results.endedAt - results.startedAt) / 100) / 10,
    outcome: judged.outcome,
    endReason: judged.endReason,
    config: meta.config,
    machine: {
      hostname: hostname(),
      platform: platform(),
      cpus: cpus().length,
      memoryGB: Math.round(totalmem() / 1e8) / 10,
      node: process.version,
    },
    metrics,
    timeline: results.timeline,
    devices,
    histograms: {
      ...results.histograms,
      ...(sections.ingestLatencyHistogram !== undefined ? { ingestLatencyMs: sections.ingestLatencyHistogram } : {}),
    },
    ...(metrics.workloads ? { workloads: withoutSeries(metrics.workloads) } : {}),
    delivery: sections.delivery ?? null,
    thresholds: sections.thresholds ?? null,
    files: sections.runLog !== undefined ? { ...results.files, log: sections.runLog } : results.files,
    problem: judged.problem,
    server: sections.server ?? null,
  };
}

/** The report's `workloads`: the final summaries without their live chart series. */
function withoutSeries(w: NonNullable<MetricsSnapshot['workloads']>): NonNullable<RunReport['workloads']> {
  return Object.fromEntries(
    Object.entries(w).map(([name, { series: _series, ...rest }]) => [name, rest as typeof rest & { rates: Record<string, number> }]),
  );
}
