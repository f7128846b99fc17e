// A complete MetricsSnapshot for server contract tests, with latencies recorded into real HDR
// histograms (so percentiles and Prometheus buckets come from the same code the engine uses).
import { METRICS_SCHEMA_VERSION, emptyPercentiles, type MetricsSnapshot } from '../../src/metrics/snapshot.js';
import { createHistogram, recordMs, summarize } from '../../src/metrics/hdr.js';
import { cumulativeBuckets } from '../../src/metrics/buckets.js';

export interface FixtureOptions {
  runId?: string;
  instance?: string | null;
  ackLatenciesMs?: number[];
  connectLatenciesMs?: number[];
  withBuckets?: boolean;
  /** `workloads.device` (default) agreeing with `traffic`; false = none (a schema v1 snapshot's shape). */
  withWorkloads?: boolean;
}

export function fixtureSnapshot(o: FixtureOptions = {}): MetricsSnapshot {
  const ack = createHistogram();
  for (const v of o.ackLatenciesMs ?? [0.3, 1.5, 7, 150]) recordMs(ack, v);
  const conn = createHistogram();
  for (const v of o.connectLatenciesMs ?? [3, 4, 12]) recordMs(conn, v);
  const started = Date.parse('2026-01-01T10:00:00.000Z');
  return {
    schemaVersion: METRICS_SCHEMA_VERSION,
    runId: o.runId ?? '20260101-100000-abcd',
    instance: o.instance ?? null,
    state: 'running',
    startedAt: new Date(started).toISOString(),
    at: new Date(started + 42_000).toISOString(),
    elapsedSec: 42,
    target: { mqtt: 'mqtt://127.0.0.1:1883', rest: 'http://127.0.0.1:8080', qos: 1, mqttVersion: '3.1.1', publishIntervalSec: 1 },
    connections: {
      configured: 10,
      connected: 8,
      peakConnected: 9,
      paused: 1,
      failedDevices: 1,
      attempts: 12,
      succeeded: 10,
      failed: 2,
      byOutcome: { accepted: 10, 'refused: not authorized (5)': 2 },
    },
    traffic: {
      sent: 400,
      acked: 390,
      failed: 4,
      inFlight: 6,
      bytesSent: 123_456,
      skipped: 3,
      sentPerSec: 9,
      ackedPerSec: 9,
      mbpsOut: 0.02,
      avgSentPerDevice: 40,
      avgRatePerDevice: 0.95,
    },
    latency: { ackMs: summarize(ack), connectMs: summarize(conn), scheduleLagMs: emptyPercentiles() },
    disconnects: { total: 3, byCause: { 'server closed': 2, 'keepalive timeout': 1 }, byClass: { server: 2, network: 1 } },
    endpoints: [
      {
        endpoint: '127.0.0.1:1883',
        devices: 5,
        connected: 5,
        attempts: 5,
        succeeded: 5,
        failed: 0,
        connectMs: summarize(conn),
        disconnects: { total: 1, byCause: { 'keepalive timeout': 1 }, byClass: { network: 1 } },
      },
      {
        endpoint: '127.0.0.1:1884',
        devices: 5,
        connected: 3,
        attempts: 7,
        succeeded: 5,
        failed: 2,
        connectMs: emptyPercentiles(),
        disconnects: { total: 2, byCause: { 'server closed': 2 }, byClass: { server: 2 } },
      },
    ],
    errors: { total: 6, byClass: { 'connect-refused': 2, 'ack-timeout': 4 } },
    collapse: null,
    generator: { verdict: 'ok', eventLoopDelayP99Ms: 12.5, scheduleLagP99Ms: 3, cpuPercent: 14, rssMB: 80, notes: [] },
    series: [1, 2, 3].map((i) => ({
      t: 39 + i,
      ts: started + (39 + i) * 1000,
      sentPerSec: 9 + i,
      ackedPerSec: 9,
      failedPerSec: 0,
      mbpsOut: 0.02,
      connected: 8,
      ackP99Ms: 150,
      scheduleLagP99Ms: null,
    })),
    topDevices: [
      { name: 'sim-001', connected: true, paused: false, sent: 42, acked: 42, failed: 0, disconnects: 0 },
      { name: 'sim-002', connected: false, paused: false, sent: 30, acked: 26, failed: 4, disconnects: 3 },
    ],
    shards: [{ id: 0, pid: 1234, state: 'running', devices: 10, connected: 8 }],
    ...(o.withBuckets === false ? {} : { latencyBuckets: { ackMs: cumulativeBuckets(ack), connectMs: cumulativeBuckets(conn) } }),
    delivery: null,
    ...(o.withWorkloads === false
      ? {}
      : {
          workloads: {
            device: {
              devices: 10,
              sent: 400,
              acked: 390,
              failed: 4,
              inFlight: 6,
              latencyMs: summarize(ack),
              rates: { sent: 9, acked: 9, failed: 0 },
              byCause: { 'ack-timeout': 4 },
              series: [1, 2, 3].map((i) => ({ ts: started + (39 + i) * 1000, p50Ms: 1.5, p99Ms: 150, rates: { sent: 9 + i, acked: 9 } })),
            },
          },
        }),
  };
}
