// Builds instance run reports from real samples for the merge tests: the latency samples are
// recorded into real HDR histograms and encoded as a run would, and the counters agree with them.
import type { RunReport, DeviceRecord, TimelinePoint } from '../../src/report/schema.js';
import { METRICS_SCHEMA_VERSION, type EndpointStats, type MetricsSnapshot, type SeriesPoint } from '../../src/metrics/snapshot.js';
import { endpointOf } from '../../src/common/endpoints.js';
import { createHistogram, recordMs, encodeHistogram, summarize } from '../../src/metrics/hdr.js';
import { deviceName } from '../../src/common/fleet.js';

/** Deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface InstanceSpec {
  index: number;
  count: number;
  /** Fleet indexes (1-based) of this instance's devices. */
  deviceIndexes: number[];
  ackMs: number[];
  connectMs: number[];
  scheduleLagMs?: number[];
  startMs: number;
  /** Timeline length, seconds (one point per second). */
  seconds: number;
  runId?: string;
  outcome?: RunReport['outcome'];
  collapseAtMs?: number;
  config?: Record<string, unknown>;
  hostname?: string;
  /**
   * MQTT endpoints (MQTT_ENDPOINTS) the devices were spread over: the report gets metrics schema 2
   * with `endpoints` (connectMs[k] is device k's, on its endpoint). Absent: a schema 1 report without them.
   */
  endpoints?: number;
}

/** The per-endpoint rows and histograms of an instance whose devices spread over `k` endpoints. */
function endpointRows(spec: InstanceSpec, k: number): { rows: EndpointStats[]; encoded: Array<string | null> } {
  const rows: EndpointStats[] = [];
  const encoded: Array<string | null> = [];
  for (let e = 0; e < k; e++) {
    const mine = spec.deviceIndexes.map((idx, j) => [idx, j]).filter(([idx]) => endpointOf(idx, k) === e);
    const samples = mine.map(([, j]) => spec.connectMs[j]).filter((x) => x !== undefined);
    const h = encode(samples);
    rows.push({
      endpoint: `127.0.0.1:${1883 + e}`,
      devices: mine.length,
      connected: mine.length,
      attempts: mine.length + e,
      succeeded: mine.length,
      failed: e,
      connectMs: h.summary,
      disconnects: { total: e, byCause: e ? { ECONNREFUSED: e } : {}, byClass: e ? { network: e } : {} },
    });
    encoded.push(h.encoded);
  }
  return { rows, encoded };
}

const encode = (samples: number[]) => {
  const h = createHistogram();
  for (const s of samples) recordMs(h, s);
  return { encoded: samples.length ? encodeHistogram(h) : null, summary: summarize(h) };
};

export function instanceReport(spec: InstanceSpec): RunReport {
  const label = `${spec.index}/${spec.count}`;
  const runId = spec.runId ?? `20261127-150000-ab12-i${spec.index}of${spec.count}`;
  const ack = encode(spec.ackMs);
  const connect = encode(spec.connectMs);
  const lag = encode(spec.scheduleLagMs ?? []);
  const n = spec.deviceIndexes.length;
  // spread the acked publishes over the devices; each device also has one failed publish
  const devices: Record<string, DeviceRecord> = {};
  spec.deviceIndexes.forEach((idx, k) => {
    const acked = Math.floor(spec.ackMs.length / n) + (k < spec.ackMs.length % n ? 1 : 0);
    devices[deviceName('sim', idx)] = {
      index: idx,
      shard: 0,
      connectedAt: spec.startMs + 10,
      connectMs: spec.connectMs[k] ?? null,
      firstPublishAt: spec.startMs + 1000,
      lastPublishAt: spec.startMs + spec.seconds * 1000,
      sent: acked + 1,
      acked,
      failed: 1,
      skipped: 0,
      connects: 1,
      connectFailures: 0,
      disconnects: [],
      errors: { 'ack timeout': 1 },
      paused: false,
      lastSequence: acked + 1,
    };
  });
  const sent = spec.ackMs.length + n;
  const timeline: TimelinePoint[] = [];
  const series: SeriesPoint[] = [];
  for (let s = 1; s <= spec.seconds; s++) {
    const ts = spec.startMs + s * 1000;
    const share = s / spec.seconds;
    timeline.push({
      ts,
      t: s,
      sent: Math.round(sent * share),
      acked: Math.round(spec.ackMs.length * share),
      failed: s === spec.seconds ? n : 0,
      connected: n,
      sentPerSec: 10 * spec.index,
      ackedPerSec: 10 * spec.index,
      mbpsOut: 0.5,
      ackP99Ms: ack.summary.p99,
      scheduleLagP99Ms: 1,
      eventLoopDelayP99Ms: 2 * spec.index,
    });
    series.push({
      t: s,
      ts,
      sentPerSec: 10 * spec.index,
      ackedPerSec: 10 * spec.index,
      failedPerSec: 0,
      mbpsOut: 0.5,
      connected: n,
      ackP99Ms: ack.summary.p99,
      scheduleLagP99Ms: 1,
    });
  }
  const endMs = spec.startMs + spec.seconds * 1000;
  const ends = spec.endpoints ? endpointRows(spec, spec.endpoints) : null;
  const metrics = {
    // without endpoints: a report written before metrics schema 3
    schemaVersion: ends ? METRICS_SCHEMA_VERSION : 2,
    ...(ends ? { endpoints: ends.rows } : {}),
    runId,
    instance: label,
    state: spec.outcome === 'failed' ? 'failed' : 'finished',
    startedAt: new Date(spec.startMs).toISOString(),
    at: new Date(endMs).toISOString(),
    elapsedSec: spec.seconds,
    target: { mqtt: 'mqtt://127.0.0.1:1883', rest: 'http://127.0.0.1:8080', qos: 1, mqttVersion: '3.1.1', publishIntervalSec: 1 },
    connections: {
      configured: n,
      connected: n,
      peakConnected: n,
      paused: 0,
      failedDevices: 0,
      attempts: n + spec.index,
      succeeded: n,
      failed: spec.index,
      byOutcome: { accepted: n, timeout: spec.index },
    },
    traffic: {
      sent,
      acked: spec.ackMs.length,
      failed: n,
      inFlight: 0,
      bytesSent: sent * 200,
      skipped: spec.index,
      sentPerSec: 10 * spec.index,
      ackedPerSec: 10 * spec.index,
      mbpsOut: 0.5,
      avgSentPerDevice: sent / n,
      avgRatePerDevice: sent / n / spec.seconds,
    },
    latency: { ackMs: ack.summary, connectMs: connect.summary, scheduleLagMs: lag.summary },
    disconnects: { total: spec.index, byCause: { 'server closed': spec.index }, byClass: { server: spec.index } },
    errors: { total: n, byClass: { 'ack timeout': n } },
    collapse:
      spec.collapseAtMs === undefined
        ? null
        : {
            at: new Date(spec.collapseAtMs).toISOString(),
            elapsedSec: (spec.collapseAtMs - spec.startMs) / 1000,
            kind: 'connections',
            dominantCause: 'server closed',
            connectedAtCollapse: 1,
            peakConnected: n,
          },
    generator: {
      verdict: spec.index === 2 ? 'lagging' : 'ok',
      eventLoopDelayP99Ms: 2 * spec.index,
      scheduleLagP99Ms: lag.summary.p99,
      cpuPercent: 20 * spec.index,
      rssMB: 100,
      notes: [],
    },
    series,
    topDevices: Object.entries(devices).map(([name, d]) => ({
      name,
      connected: true,
      paused: false,
      sent: d.sent,
      acked: d.acked,
      failed: d.failed,
      disconnects: 0,
    })),
    shards: [{ id: 0, pid: 1000 + spec.index, state: 'done', devices: n, connected: n }],
    delivery: null,
  } as MetricsSnapshot;
  return {
    schemaVersion: 1,
    tool: 'tb-load-lab',
    toolVersion: '0.1.0',
    runId,
    instance: label,
    startedAt: metrics.startedAt,
    endedAt: metrics.at,
    durationSec: spec.seconds,
    outcome: spec.outcome ?? 'completed',
    endReason: 'duration reached',
    config: {
      devicePrefix: 'sim',
      deviceCount: 40,
      qos: 1,
      publishIntervalSec: 1,
      instance: { index: spec.index, count: spec.count },
      ...spec.config,
    },
    machine: { hostname: spec.hostname ?? 'lab-host', platform: 'linux', cpus: 2, memoryGB: 24, node: 'v20.20.0' },
    metrics,
    timeline,
    devices,
    histograms: {
      ackMs: ack.encoded,
      connectMs: connect.encoded,
      scheduleLagMs: lag.encoded,
      ...(ends ? { endpointConnectMs: ends.encoded } : {}),
    },
    delivery: null,
    thresholds: null,
    files: { events: [`data/logs/${runId}-s00-events.jsonl`], metrics: [`data/metrics/${runId}-s00-metrics.csv`] },
  };
}

/** The value at percentile p of raw samples, as HDR defines it: the smallest value with ≥ p% of samples at or below it. */
export function exactPercentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}
