// Realistic RunReport fixtures for unit tests: per-device records first, then every total,
// timeline point and histogram derived from them, so the counters reconcile like a real run.
import { createHistogram, recordMs, summarize, encodeHistogram } from '../../src/metrics/hdr.js';
import { METRICS_SCHEMA_VERSION, type CauseClass } from '../../src/metrics/snapshot.js';
import { REPORT_SCHEMA_VERSION, type DeviceRecord, type RunReport, type TimelinePoint } from '../../src/report/schema.js';
import { deviceName } from '../../src/common/fleet.js';
import { writeJsonAtomic } from '../../src/common/fs.js';
import { join } from 'node:path';

export interface FixtureOptions {
  runId?: string;
  devices?: number;
  durationSec?: number;
  intervalSec?: number;
  startedAt?: string;
  /** Connects per second of the ramp (CONNECT_RATE). */
  connectRate?: number;
  /** Ack latency of publish k of device i, ms. */
  ackMs?: (i: number, k: number) => number;
  /** Device indexes (1-based) that never connect. */
  neverConnected?: number[];
  /** Device index → second after which it stops publishing (stays connected). */
  stallAfterSec?: Record<number, number>;
  /** Device index → extra seconds before its first connect. */
  delaySec?: Record<number, number>;
  /** Device index → publishes that failed (ack timeout). */
  failed?: Record<number, number>;
  /** Device index → disconnects (offset seconds, cause, class); the device reconnects at once. */
  disconnects?: Record<number, Array<[number, string, CauseClass]>>;
  /** Lost publishes in the delivery check; undefined = no delivery check. */
  deliveryLost?: number;
  /** Collapse at this many seconds. */
  collapseAtSec?: number;
  thresholds?: RunReport['thresholds'];
}

const PAYLOAD_BYTES = 212;
/** Drain and disconnect after the load, seconds (part of durationSec, like a real run). */
const STOP_SEC = 0.5;

export function makeReport(o: FixtureOptions = {}): RunReport {
  const n = o.devices ?? 30,
    dur = o.durationSec ?? 60,
    iv = o.intervalSec ?? 1,
    rate = o.connectRate ?? 100;
  const runId = o.runId ?? 'run-20261127-100000';
  const t0 = Date.parse(o.startedAt ?? '2026-11-27T10:00:00.000Z');
  const ackMs = o.ackMs ?? ((i, k) => 8 + ((i * 7 + k * 13) % 23));
  const ack = createHistogram(),
    conn = createHistogram(),
    lag = createHistogram();
  const devices: Record<string, DeviceRecord> = {};
  const sentAt: number[][] = [];
  for (let i = 1; i <= n; i++) {
    const name = deviceName('sim', i);
    const never = o.neverConnected?.includes(i) ?? false;
    const connectMs = 3 + (i % 5);
    const connectedAt = never ? null : t0 + Math.round(((i - 1) / rate + (o.delaySec?.[i] ?? 0)) * 1000) + connectMs;
    const stop = t0 + Math.min(dur, o.stallAfterSec?.[i] ?? dur) * 1000;
    const sends: number[] = [];
    if (connectedAt !== null) for (let at = connectedAt + 10; at < stop; at += iv * 1000) sends.push(at);
    sentAt.push(sends);
    const failed = Math.min(o.failed?.[i] ?? 0, sends.length);
    sends.forEach((_, k) => {
      if (k < sends.length - failed) recordMs(ack, ackMs(i, k));
      recordMs(lag, (k % 4) * 0.5);
    });
    if (connectedAt !== null) recordMs(conn, connectMs);
    const disc = (o.disconnects?.[i] ?? []).map(([s, cause, cls]) => ({ at: t0 + s * 1000, cause, class: cls }));
    devices[name] = {
      index: i,
      shard: 0,
      connectedAt,
      connectMs: connectedAt === null ? null : connectMs,
      firstPublishAt: sends[0] ?? null,
      lastPublishAt: sends[sends.length - 1] ?? null,
      sent: sends.length,
      acked: sends.length - failed,
      failed,
      skipped: 0,
      connects: never ? 0 : 1 + disc.length,
      connectFailures: never ? 3 : 0,
      disconnects: disc,
      errors: { ...(failed ? { 'ack-timeout': failed } : {}), ...(never ? { 'refused: not authorized (5)': 3 } : {}) },
      paused: false,
      lastSequence: sends.length,
    };
  }
  const all = Object.values(devices);
  const sum = (f: (d: DeviceRecord) => number) => all.reduce((a, d) => a + f(d), 0);
  const sent = sum((d) => d.sent),
    acked = sum((d) => d.acked),
    failedTotal = sum((d) => d.failed);
  const neverN = o.neverConnected?.length ?? 0;
  const timeline: TimelinePoint[] = [];
  for (let t = 1; t <= dur; t++) {
    const ts = t0 + t * 1000;
    const count = (lim: number) => sentAt.reduce((a, s) => a + s.filter((x) => x < lim).length, 0);
    const connected =
      all.filter((d) => d.connectedAt !== null && d.connectedAt < ts).length -
      (o.collapseAtSec !== undefined && t >= o.collapseAtSec ? Math.ceil(n * 0.6) : 0);
    const s = count(ts),
      prev = count(ts - 1000);
    const state = connected >= n - neverN || t > 3 ? ('running' as const) : ('connecting' as const);
    timeline.push({
      ts,
      t,
      sent: s,
      acked: s,
      failed: 0,
      connected: Math.max(0, connected),
      sentPerSec: s - prev,
      ackedPerSec: s - prev,
      mbpsOut: ((s - prev) * PAYLOAD_BYTES * 8) / 1e6,
      ackP99Ms: 30,
      scheduleLagP99Ms: 1.5,
      eventLoopDelayP99Ms: 12,
      state,
    });
  }
  // like the engine: a last point after the drain and disconnect, with nobody connected
  const last = timeline[timeline.length - 1];
  timeline.push({
    ...last,
    ts: t0 + (dur + 1) * 1000,
    t: dur + STOP_SEC,
    connected: 0,
    sentPerSec: 0,
    ackedPerSec: 0,
    mbpsOut: 0,
    state: 'finished',
  });
  const byCause: Record<string, number> = {},
    byClass: Record<string, number> = {};
  for (const d of all)
    for (const x of d.disconnects) {
      byCause[x.cause] = (byCause[x.cause] ?? 0) + 1;
      byClass[x.class] = (byClass[x.class] ?? 0) + 1;
    }
  const errClass: Record<string, number> = {};
  for (const d of all) for (const [k, v] of Object.entries(d.errors)) errClass[k] = (errClass[k] ?? 0) + v;
  const connectedAtEnd = timeline[timeline.length - 2]?.connected ?? 0;
  const startedAt = new Date(t0).toISOString(),
    endedAt = new Date(t0 + (dur + STOP_SEC) * 1000).toISOString();
  const lost = o.deliveryLost;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: 'tb-load-lab',
    toolVersion: '0.1.0',
    runId,
    instance: null,
    startedAt,
    endedAt,
    durationSec: dur + STOP_SEC,
    outcome: 'completed',
    endReason: 'duration reached',
    config: { deviceCount: n, publishIntervalSec: iv, connectRate: rate, qos: 1, tbUrl: 'http://127.0.0.1:8080' },
    machine: { hostname: 'lab-host', platform: 'linux', cpus: 2, memoryGB: 8, node: 'v20.18.0' },
    metrics: {
      schemaVersion: METRICS_SCHEMA_VERSION,
      runId,
      instance: null,
      state: 'finished',
      startedAt,
      at: endedAt,
      elapsedSec: dur + STOP_SEC,
      target: { mqtt: 'mqtt://127.0.0.1:1883', rest: 'http://127.0.0.1:8080', qos: 1, mqttVersion: '3.1.1', publishIntervalSec: iv },
      connections: {
        configured: n,
        connected: 0,
        peakConnected: Math.max(...timeline.map((p) => p.connected)),
        paused: 0,
        failedDevices: neverN,
        attempts: sum((d) => d.connects + d.connectFailures),
        succeeded: sum((d) => d.connects),
        failed: sum((d) => d.connectFailures),
        byOutcome: { accepted: sum((d) => d.connects), ...(neverN ? { 'refused: not authorized (5)': neverN * 3 } : {}) },
      },
      traffic: {
        sent,
        acked,
        failed: failedTotal,
        inFlight: sent - acked - failedTotal,
        bytesSent: sent * PAYLOAD_BYTES,
        skipped: 0,
        sentPerSec: timeline[timeline.length - 1]?.sentPerSec ?? 0,
        ackedPerSec: 0,
        mbpsOut: 0,
        avgSentPerDevice: sent / n,
        avgRatePerDevice: sent / n / (dur + STOP_SEC),
      },
      latency: { ackMs: summarize(ack), connectMs: summarize(conn), scheduleLagMs: summarize(lag) },
      disconnects: { total: sum((d) => d.disconnects.length), byCause, byClass },
      endpoints: [
        {
          endpoint: '127.0.0.1:1883',
          devices: n,
          connected: 0,
          attempts: sum((d) => d.connects + d.connectFailures),
          succeeded: sum((d) => d.connects),
          failed: sum((d) => d.connectFailures),
          connectMs: summarize(conn),
          disconnects: { total: sum((d) => d.disconnects.length), byCause, byClass },
        },
      ],
      errors: { total: Object.values(errClass).reduce((a, b) => a + b, 0), byClass: errClass },
      collapse:
        o.collapseAtSec === undefined
          ? null
          : {
              at: new Date(t0 + o.collapseAtSec * 1000).toISOString(),
              elapsedSec: o.collapseAtSec,
              kind: 'connections',
              dominantCause: 'server closed',
              connectedAtCollapse: connectedAtEnd,
              peakConnected: n,
            },
      generator: { verdict: 'ok', eventLoopDelayP99Ms: 12, scheduleLagP99Ms: 1.5, cpuPercent: 23, rssMB: 88, notes: [] },
      series: [],
      topDevices: [],
      shards: [{ id: 0, pid: 4242, state: 'done', devices: n, connected: 0 }],
      delivery: null,
    },
    timeline,
    devices,
    histograms: { ackMs: encodeHistogram(ack), connectMs: encodeHistogram(conn), scheduleLagMs: encodeHistogram(lag) },
    delivery:
      lost === undefined
        ? null
        : {
            method: 'emulator-stats',
            checkedAt: endedAt,
            devices: {},
            notes: [],
            totals: { sent, acked, stored: sent - lost, lost, duplicates: 0, late: 0 },
          },
    thresholds: o.thresholds ?? null,
    files: { events: [], metrics: [] },
  };
}

/** Writes a report where the engine would: <dataDir>/runs/<run-id>.json and runs/latest.json. */
export function saveReport(dataDir: string, report: RunReport): string {
  const path = join(dataDir, 'runs', `${report.runId}.json`);
  writeJsonAtomic(path, report);
  writeJsonAtomic(join(dataDir, 'runs', 'latest.json'), report);
  return path;
}
