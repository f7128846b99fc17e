// `report merge`: one RunReport of the whole fleet from the reports of the N instances that split it
// (`--instance i/N`). Counters add up, latencies come from merged HDR histograms (never averaged
// percentiles), timelines align on the wall-clock second, per-device records unite, outcome = worst.
import { mergeWorkloads } from './merge-workloads.js';
import type { RunReport, RunOutcome, TimelinePoint, DeviceRecord } from './schema.js';
import { createHistogram, encodeHistogram, mergeInto, summarize, type Histogram } from '../metrics/hdr.js';
import type { Percentiles, RunState } from '../metrics/snapshot.js';
import { parseInstance, instanceLabel, fleetRunId, type InstanceId } from '../common/fleet.js';
import { LabError } from '../common/errors.js';
import { alignByTs } from './merge-align.js';
import { mergeSnapshots, worst } from './merge-metrics.js';
import { mergeDelivery, uniteRecords } from './merge-delivery.js';
import { mergeServer } from './merge-server.js';
import { mergeEndpoints } from './merge-endpoints.js';

export interface MergeInput {
  /** Where the report came from (file path): named in every error. */
  source: string;
  report: RunReport;
}

export interface MergeOptions {
  /** Run id of the merged report; default `<common prefix of the instance run ids>-merged`. */
  runId?: string;
  /** Merge even when some of the N instances are missing (outcome becomes at least `partial`). */
  allowPartial?: boolean;
}

export interface MergeResult {
  report: RunReport;
  /** Differences worth telling the operator (settings that differ between instances, missing instances). */
  warnings: string[];
}

const OUTCOME_RANK: Record<RunOutcome, number> = { completed: 0, degraded: 1, partial: 2, aborted: 3, failed: 4 };
/** Run states in the order a run goes through them (timeline points may carry one). */
const RUN_STAGES = [
  'starting',
  'connecting',
  'running',
  'stopping',
  'finished',
  'aborted',
  'failed',
] as const satisfies readonly RunState[];
/** Settings that define the fleet and its slicing: instances that differ here did not split one fleet. */
const FLEET_KEYS = ['devicePrefix', 'deviceCount'] as const;
/** Settings that should match for the sum to mean one load; differences are reported, not fatal. */
const LOAD_KEYS = [
  'tbUrl',
  'mqttHost',
  'mqttPort',
  'mqttEndpoints',
  'qos',
  'mqttVersion',
  'publishIntervalSec',
  'durationSec',
  'stages',
] as const;

type Placed = MergeInput & { id: InstanceId; label: string };

const conflict = (message: string, details?: Record<string, unknown>): never => {
  throw new LabError('MERGE_CONFLICT', { message, details });
};

function place(inputs: readonly MergeInput[], allowPartial: boolean, warnings: string[]): Placed[] {
  if (inputs.length === 0) throw new LabError('RUN_NOT_FOUND', { message: 'No instance reports to merge' });
  const placed = inputs.map((inp): Placed => {
    if (inp.report.mergedFrom)
      conflict(`${inp.source} is already a merged report (of ${inp.report.mergedFrom.join(', ')}); merge the instance reports themselves`);
    const id = inp.report.instance === null ? null : parseInstance(inp.report.instance);
    if (!id)
      return conflict(
        `${inp.source} (run ${inp.report.runId}) is not an instance report: its instance is ${JSON.stringify(inp.report.instance)}, expected i/N from \`tblab run --instance i/N\``,
      );
    return { ...inp, id, label: `instance ${instanceLabel(id)}` };
  });
  const count = placed[0].id.count;
  const other = placed.find((p) => p.id.count !== count);
  if (other)
    conflict(
      `${placed[0].source} is instance ${instanceLabel(placed[0].id)} but ${other.source} is ${instanceLabel(other.id)}: all reports must come from one split into ${count} instances`,
    );
  placed.sort((a, b) => a.id.index - b.id.index);
  for (let i = 1; i < placed.length; i++) {
    if (placed[i].id.index === placed[i - 1].id.index)
      conflict(`${placed[i - 1].source} and ${placed[i].source} are both ${placed[i].label}: pass each instance's report once`);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !placed.some((p) => p.id.index === i));
  if (missing.length) {
    const text = `missing instance report${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')}`;
    if (!allowPartial) conflict(`Cannot merge: ${text} (add --partial to merge what is there)`, { missing });
    warnings.push(`${text}: the merged report covers ${placed.length} of ${count} slices`);
  }
  for (const k of FLEET_KEYS) {
    const a = placed[0].report.config[k];
    const diff = placed.find((p) => JSON.stringify(p.report.config[k]) !== JSON.stringify(a));
    if (diff)
      conflict(
        `${placed[0].source} has ${k}=${JSON.stringify(a)} but ${diff.source} has ${JSON.stringify(diff.report.config[k])}: the instances did not split one fleet`,
      );
  }
  for (const k of LOAD_KEYS) {
    const values = new Set(placed.map((p) => JSON.stringify(p.report.config[k])));
    if (values.size > 1) warnings.push(`instances ran with different ${k}: ${[...values].join(' / ')}`);
  }
  return placed;
}

type HistKey = Exclude<keyof RunReport['histograms'], 'workloads' | 'endpointConnectMs'>;
type LatencyKey = keyof RunReport['metrics']['latency'];

/** Decodes and adds one histogram kind of every input; refuses inputs that have samples but no histogram. */
function mergeHistogram(placed: readonly Placed[], key: HistKey, countOf: (r: RunReport) => number): Histogram {
  const h = createHistogram();
  for (const p of placed) {
    const encoded = p.report.histograms[key];
    if (!encoded) {
      const n = countOf(p.report);
      if (n > 0) conflict(`${p.source} has ${n} ${key} samples but no encoded histogram: percentiles cannot be merged exactly`);
      continue;
    }
    mergeInto(h, encoded);
  }
  return h;
}

/**
 * `<RUN_ID>-i2of4` ×N → `<RUN_ID>-merged`; else the run ids' common prefix + `-merged`; no usable
 * prefix → `merged-<start>`.
 */
export function mergedRunId(runIds: readonly string[], startMs: number): string {
  const fleets = new Set(runIds.map(fleetRunId));
  const [fleet] = fleets;
  if (fleets.size === 1 && !runIds.includes(fleet)) return `${fleet}-merged`;
  let prefix = runIds[0] ?? '';
  for (const id of runIds) while (!id.startsWith(prefix)) prefix = prefix.slice(0, -1);
  prefix = prefix.replace(/[-_.]+i?$/i, '');
  if (prefix.length >= 6) return `${prefix}-merged`;
  return `merged-${new Date(startMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

const endOf = (r: RunReport) => (r.endedAt ? Date.parse(r.endedAt) : Date.parse(r.startedAt) + r.durationSec * 1000);

export function mergeReports(inputs: readonly MergeInput[], opts: MergeOptions = {}): MergeResult {
  const warnings: string[] = [];
  const placed = place(inputs, opts.allowPartial ?? false, warnings);
  const reports = placed.map((p) => p.report);
  const startMs = Math.min(...reports.map((r) => Date.parse(r.startedAt)));
  const endMs = Math.max(...reports.map(endOf));
  const runId =
    opts.runId ??
    mergedRunId(
      reports.map((r) => r.runId),
      startMs,
    );
  if (reports.some((r) => r.runId === runId))
    conflict(`The merged run id ${runId} is also an instance's run id; choose another with --run-id`);

  const latencyCount = (k: LatencyKey) => (r: RunReport) => r.metrics.latency[k].count;
  const hist = {
    ackMs: mergeHistogram(placed, 'ackMs', latencyCount('ackMs')),
    connectMs: mergeHistogram(placed, 'connectMs', latencyCount('connectMs')),
    scheduleLagMs: mergeHistogram(placed, 'scheduleLagMs', latencyCount('scheduleLagMs')),
  };
  // ingest latency is only measured where delivery was checked: merge exactly when every such
  // instance shipped its histogram, otherwise leave it out rather than show one instance's numbers
  const delivering = placed.filter((p) => p.report.delivery !== null || p.report.metrics.delivery !== null);
  const ingestExact = delivering.length > 0 && delivering.every((p) => p.report.histograms.ingestLatencyMs);
  const ingest = ingestExact ? mergeHistogram(delivering, 'ingestLatencyMs', () => 0) : null;
  const ingestMs: Percentiles | null = ingest ? summarize(ingest) : null;
  if (delivering.length > 1 && !ingestExact)
    warnings.push('some instances have no ingest-latency histogram: the merged ingest latency is left out');

  const duplicate = (name: string, first: string, second: string): never =>
    conflict(
      `Device ${name} is in the reports of both ${first} and ${second}: instance slices must be disjoint (same DEVICE_COUNT, DEVICE_PREFIX and fleet for every instance)`,
      { device: name, instances: [first, second] },
    );
  const devices = uniteRecords<DeviceRecord>(
    placed.map((p) => ({ label: p.label, records: p.report.devices })),
    duplicate,
  );

  const ends = mergeEndpoints(
    placed.map((p) => ({ label: p.label, endpoints: p.report.metrics.endpoints, connectMs: p.report.histograms.endpointConnectMs })),
  );
  warnings.push(...ends.warnings);
  const metrics = mergeSnapshots(
    placed.map((p) => ({ label: p.label, snapshot: p.report.metrics })),
    runId,
    startMs,
    endMs,
    {
      ackMs: summarize(hist.ackMs),
      connectMs: summarize(hist.connectMs),
      scheduleLagMs: summarize(hist.scheduleLagMs),
      ingestLatencyMs: ingestMs,
    },
    ends.endpoints,
  );
  const timeline = alignByTs<TimelinePoint>(
    reports.map((r) => r.timeline),
    startMs,
    {
      sum: ['connected', 'sentPerSec', 'ackedPerSec', 'mbpsOut'],
      cumulative: ['sent', 'acked', 'failed'],
      max: ['ackP99Ms', 'scheduleLagP99Ms', 'eventLoopDelayP99Ms'],
      least: { key: 'state', order: RUN_STAGES },
    },
  );

  const outcomes = reports.map((r) => r.outcome);
  if (placed.length < placed[0].id.count) outcomes.push('partial');
  const reasons = new Set(reports.map((r) => r.endReason));
  const hosts = new Map(reports.map((r) => [r.machine.hostname, r.machine]));
  const enc = (h: Histogram) => (h.totalCount > 0 ? encodeHistogram(h) : null);
  const work = mergeWorkloads(reports);
  warnings.push(...work.warnings);
  if (work.workloads) metrics.workloads = work.workloads;

  const report: RunReport = {
    schemaVersion: reports[0].schemaVersion,
    tool: 'tb-load-lab',
    toolVersion: reports[0].toolVersion,
    runId,
    instance: null,
    startedAt: new Date(startMs).toISOString(),
    endedAt: reports.every((r) => r.endedAt) ? new Date(endMs).toISOString() : null,
    durationSec: (endMs - startMs) / 1000,
    outcome: worst(outcomes, OUTCOME_RANK),
    endReason: reasons.size === 1 ? [...reasons][0] : placed.map((p) => `${p.label}: ${p.report.endReason}`).join('; '),
    config: { ...reports[0].config, instance: null },
    machine: {
      // instances on one host share its CPUs and memory: count each host once
      hostname: [...hosts.keys()].join(', '),
      platform: reports[0].machine.platform,
      cpus: [...hosts.values()].reduce((a, m) => a + m.cpus, 0),
      memoryGB: [...hosts.values()].reduce((a, m) => a + m.memoryGB, 0),
      node: reports[0].machine.node,
    },
    metrics,
    timeline,
    devices,
    histograms: {
      ackMs: enc(hist.ackMs),
      connectMs: enc(hist.connectMs),
      scheduleLagMs: enc(hist.scheduleLagMs),
      ...(ingest ? { ingestLatencyMs: enc(ingest) } : {}),
      ...(ends.endpoints.length ? { endpointConnectMs: ends.connectMs } : {}),
      ...(work.histograms ? { workloads: work.histograms } : {}),
    },
    ...(work.workloads ? { workloads: work.workloads } : {}),
    delivery: mergeDelivery(
      placed.map((p) => ({ label: p.label, delivery: p.report.delivery })),
      ingestMs,
      duplicate,
    ),
    // thresholds were judged per instance; keep each verdict, named by its instance
    thresholds: reports.every((r) => r.thresholds === null)
      ? null
      : placed.flatMap((p) => (p.report.thresholds ?? []).map((t) => ({ ...t, message: `${p.label}: ${t.message}` }))),
    files: { events: reports.flatMap((r) => r.files.events), metrics: reports.flatMap((r) => r.files.metrics) },
    // the same server, judged against each instance's share: verdicts kept per instance (merge-server.ts)
    server: mergeServer(placed.map((p) => ({ label: p.label, server: p.report.server }))),
    mergedFrom: reports.map((r) => r.runId),
  };
  return { report, warnings };
}
