// Merges the final metrics snapshots of N instances into the fleet's snapshot: counters and
// count maps are summed, latencies come from the merged HDR histograms, worst state/verdict wins.
import {
  emptyPercentiles,
  type MetricsSnapshot,
  type Percentiles,
  type RunState,
  type SeriesPoint,
  type DeviceRow,
  type ShardStatus,
  type EndpointStats,
} from '../metrics/snapshot.js';
import { alignByTs } from './merge-align.js';

/** Adds count maps key by key (`byOutcome`, `byCause`, `errors.byClass`…). */
export function sumMaps<K extends string>(maps: ReadonlyArray<Partial<Record<K, number>>>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m) as Array<[K, number]>) out[k] = (out[k] ?? 0) + v;
  return out;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const maxOrNull = (xs: ReadonlyArray<number | null>) => {
  const v = xs.filter((x): x is number => x !== null && x !== undefined);
  return v.length ? Math.max(...v) : null;
};

/** Worst first wins: a merged run is only as good as its worst instance. */
export function worst<T extends string>(values: readonly T[], rank: Readonly<Record<T, number>>): T {
  return values.reduce((w, v) => ((rank[v] ?? 0) > (rank[w] ?? 0) ? v : w));
}

const STATE_RANK: Record<RunState, number> = { finished: 0, starting: 1, connecting: 1, running: 1, stopping: 1, aborted: 2, failed: 3 };
const VERDICT_RANK = { ok: 0, lagging: 1, overloaded: 2 } as const;

/** Latencies of the fleet, summarised from the merged histograms. */
export interface MergedLatency {
  ackMs: Percentiles;
  connectMs: Percentiles;
  scheduleLagMs: Percentiles;
  /** null when the delivery samples carry no histogram that can be merged. */
  ingestLatencyMs: Percentiles | null;
}

export interface MetricsInput {
  label: string;
  snapshot: MetricsSnapshot;
}

const SERIES_POINTS = 60;
const TOP_DEVICES = 50;

function topDevices(rows: DeviceRow[]): DeviceRow[] {
  const bySent = [...rows].sort((a, b) => b.sent - a.sent || (a.name < b.name ? -1 : 1));
  const top = bySent.slice(0, TOP_DEVICES);
  const inTop = new Set(top.map((r) => r.name));
  return [...top, ...bySent.filter((r) => r.failed > 0 && !inTop.has(r.name))];
}

export function mergeSnapshots(
  inputs: readonly MetricsInput[],
  runId: string,
  startMs: number,
  endMs: number,
  latency: MergedLatency,
  endpoints: EndpointStats[] = [],
): MetricsSnapshot {
  const s = inputs.map((i) => i.snapshot);
  const configured = sum(s.map((x) => x.connections.configured));
  const traffic = {
    sent: sum(s.map((x) => x.traffic.sent)),
    acked: sum(s.map((x) => x.traffic.acked)),
    failed: sum(s.map((x) => x.traffic.failed)),
    inFlight: sum(s.map((x) => x.traffic.inFlight)),
    bytesSent: sum(s.map((x) => x.traffic.bytesSent)),
    skipped: sum(s.map((x) => x.traffic.skipped)),
    sentPerSec: sum(s.map((x) => x.traffic.sentPerSec)),
    ackedPerSec: sum(s.map((x) => x.traffic.ackedPerSec)),
    mbpsOut: sum(s.map((x) => x.traffic.mbpsOut)),
    avgSentPerDevice: 0,
    avgRatePerDevice: 0,
  };
  if (configured > 0) {
    traffic.avgSentPerDevice = traffic.sent / configured;
    // each instance's rate is per its own devices: weight by them, so the fleet's rate is exact
    traffic.avgRatePerDevice = sum(s.map((x) => x.traffic.avgRatePerDevice * x.connections.configured)) / configured;
  }
  const series = alignByTs<SeriesPoint>(
    s.map((x) => x.series),
    startMs,
    {
      sum: ['sentPerSec', 'ackedPerSec', 'failedPerSec', 'mbpsOut', 'connected'],
      cumulative: [],
      max: ['ackP99Ms', 'scheduleLagP99Ms'],
    },
  ).slice(-SERIES_POINTS);

  const collapses = inputs
    .filter((i) => i.snapshot.collapse)
    .sort((a, b) => Date.parse(a.snapshot.collapse!.at) - Date.parse(b.snapshot.collapse!.at));
  const first = collapses[0];
  const notes = inputs.flatMap((i) => i.snapshot.generator.notes.map((n) => `${i.label}: ${n}`));
  if (first) notes.push(`${first.label}: collapse detected first (${collapses.length} of ${inputs.length} instances collapsed)`);

  let shardId = 0;
  const shards: ShardStatus[] = s.flatMap((x) => x.shards.map((sh) => ({ ...sh, id: shardId++ })));
  const deliveries = s.map((x) => x.delivery).filter((d): d is NonNullable<MetricsSnapshot['delivery']> => d !== null);
  const optSum = (k: 'stored' | 'lost' | 'duplicates' | 'rateLimitEvents') =>
    deliveries.some((d) => d[k] !== undefined) ? sum(deliveries.map((d) => d[k] ?? 0)) : undefined;

  return {
    schemaVersion: s[0].schemaVersion,
    runId,
    instance: null,
    state: worst(
      s.map((x) => x.state),
      STATE_RANK,
    ),
    startedAt: new Date(startMs).toISOString(),
    at: new Date(endMs).toISOString(),
    elapsedSec: (endMs - startMs) / 1000,
    target: s[0].target,
    connections: {
      configured,
      connected: sum(s.map((x) => x.connections.connected)),
      // instance peaks may fall in different seconds: the fleet peak is the peak of the summed
      // per-second series, never less than the largest single instance's peak
      peakConnected: Math.max(...s.map((x) => x.connections.peakConnected), ...series.map((p) => p.connected)),
      paused: sum(s.map((x) => x.connections.paused)),
      failedDevices: sum(s.map((x) => x.connections.failedDevices)),
      attempts: sum(s.map((x) => x.connections.attempts)),
      succeeded: sum(s.map((x) => x.connections.succeeded)),
      failed: sum(s.map((x) => x.connections.failed)),
      byOutcome: sumMaps(s.map((x) => x.connections.byOutcome)) as Record<string, number>,
    },
    traffic,
    latency: { ackMs: latency.ackMs, connectMs: latency.connectMs, scheduleLagMs: latency.scheduleLagMs },
    disconnects: {
      total: sum(s.map((x) => x.disconnects.total)),
      byCause: sumMaps(s.map((x) => x.disconnects.byCause)) as Record<string, number>,
      byClass: sumMaps(s.map((x) => x.disconnects.byClass)),
    },
    endpoints,
    errors: { total: sum(s.map((x) => x.errors.total)), byClass: sumMaps(s.map((x) => x.errors.byClass)) as Record<string, number> },
    collapse: first ? { ...first.snapshot.collapse!, elapsedSec: (Date.parse(first.snapshot.collapse!.at) - startMs) / 1000 } : null,
    generator: {
      verdict: worst(
        s.map((x) => x.generator.verdict),
        VERDICT_RANK,
      ),
      eventLoopDelayP99Ms: maxOrNull(s.map((x) => x.generator.eventLoopDelayP99Ms)),
      scheduleLagP99Ms: latency.scheduleLagMs.p99,
      // per-process figures: the busiest instance is what tells whether a generator kept up
      cpuPercent: maxOrNull(s.map((x) => x.generator.cpuPercent)),
      rssMB: sum(s.map((x) => x.generator.rssMB)),
      notes,
    },
    series,
    topDevices: topDevices(s.flatMap((x) => x.topDevices)),
    shards,
    delivery:
      deliveries.length === 0
        ? null
        : {
            sampleDevices: sum(deliveries.map((d) => d.sampleDevices)),
            ingestLatencyMs: latency.ingestLatencyMs ?? emptyPercentiles(),
            ...(optSum('stored') !== undefined ? { stored: optSum('stored') } : {}),
            ...(optSum('lost') !== undefined ? { lost: optSum('lost') } : {}),
            ...(optSum('duplicates') !== undefined ? { duplicates: optSum('duplicates') } : {}),
            ...(optSum('rateLimitEvents') !== undefined ? { rateLimitEvents: optSum('rateLimitEvents') } : {}),
          },
  };
}
