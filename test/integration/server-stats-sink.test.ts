// The server-stats sink against a real emulator (5 s stats windows) and real engine runs: each fault
// gives its own verdict, citing the series it rests on; a tenant user sees no system info and says so.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../helpers/emulator.js';
import { emulatorFleet, testConfig, startRun } from '../helpers/engine.js';
import { cleanup } from '../helpers/cleanup.js';
import { TbClient } from '../../src/thingsboard/client.js';
import { ServerStatsSink } from '../../src/lab/server-stats-sink.js';
import { serverStatsRunSink } from '../../src/lab/server-stats-run-sink.js';
import { attributeRateLimits } from '../../src/lab/delivery/rate-limit.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';

const WINDOW_SEC = 5;

async function faultedRun(
  t: TestContext,
  emuOpts: EmulatorOptions,
  opts: { metrics?: boolean; username?: string; password?: string } = {},
) {
  const emu = await startEmulator(t, { serverStats: { intervalSec: WINDOW_SEC, prometheus: opts.metrics ?? false }, ...emuOpts });
  const fleet = await emulatorFleet(emu.restUrl, 10);
  const client = new TbClient({
    baseUrl: emu.restUrl,
    username: opts.username ?? 'tenant@thingsboard.org',
    password: opts.password ?? 'tenant',
    timeoutMs: 5000,
    retries: 1,
    connections: 4,
  });
  cleanup(t, () => client.close());
  const sink = new ServerStatsSink({
    client,
    metricsUrl: opts.metrics ? `${emu.restUrl}/actuator/prometheus` : null,
    queuePollMs: 1000,
    usagePollMs: 1000,
    systemPollMs: 2000,
    prometheusPollMs: 1000,
    queueWindowSec: WINDOW_SEC,
    settleMs: (WINDOW_SEC + 2) * 1000,
  });
  sink.start();
  const config = testConfig(t, {
    MQTT_PORT: emu.mqttPort,
    TB_URL: emu.restUrl,
    MQTT_QOS: 1,
    DURATION_SEC: 12,
    PUBLISH_INTERVAL_SEC: 0.5,
    SHARDS: 1,
  });
  const run = startRun(t, { config, fleet, writeFiles: false });
  run.on('snapshot', (s) => sink.onSnapshot(s));
  const report = await run.done;
  const rl = attributeRateLimits({ devices: report.devices, intervalSec: 0.5, peakSentPerSec: 20, rest429: { count: 0, firstAt: null } });
  const rateLimit = { count: rl.count ?? rl.events.length, firstAt: rl.firstAt, pattern: rl.pattern };
  // what the delivery check reads back once the run is over: the emulator's stored count
  await new Promise((r) => setTimeout(r, 3000));
  const server = await sink.end({
    delivery: { acked: report.metrics.traffic.acked, stored: emu.stats({ perDevice: false }).messages },
    rateLimit,
  });
  if (process.env.SINK_DEBUG)
    console.log(JSON.stringify({ sent: report.metrics.traffic.sent, verdict: server.verdict, notVisible: server.notVisible }, null, 1));
  return { emu, report, server };
}

const series = (server: { series: Array<{ name: string; points: Array<{ v: number }> }> }, name: string) =>
  (server.series.find((s) => s.name === name)?.points ?? []).reduce((a, p) => a + p.v, 0);

test('no faults → none; a tenant user is told system info is not visible; so is Prometheus', { timeout: 120_000 }, async (t) => {
  const { report, server } = await faultedRun(t, {});
  assert.equal(server.verdict.tier, 'none', server.verdict.evidence.join('\n'));
  assert.ok(
    server.notVisible.some((l) => /^system info \(CPU, memory\): ThingsBoard answered 403/.test(l)),
    server.notVisible.join('\n'),
  );
  assert.ok(server.notVisible.some((l) => l.startsWith('Prometheus metrics: TB_METRICS_URL is not set')));
  // the numbers reconcile: every message the lab sent was counted by the transport and stored
  assert.equal(series(server, 'apiUsage.transportMsgCount'), report.metrics.traffic.sent);
  assert.equal(series(server, 'queueStats.Main.successfulMsgs'), report.metrics.traffic.sent);
  const q = server.series.find((s) => s.name === 'queueStats.Main.totalMsgs')!;
  assert.equal(q.windowSec, WINDOW_SEC, 'queue stats keep their window');
  assert.ok(q.points.length >= 2);
});

test('processing delay beyond the pack timeout → rule-engine, citing queue timeouts', { timeout: 120_000 }, async (t) => {
  const { server, report } = await faultedRun(t, { faults: { processingDelayMs: 2500 } });
  assert.equal(server.verdict.tier, 'rule-engine', server.verdict.evidence.join('\n'));
  assert.match(server.verdict.evidence[0], /^queueStats\.Main\.timeoutMsgs = \d+ in the 5 s window/);
  assert.equal(series(server, 'queueStats.Main.timeoutMsgs'), report.metrics.traffic.sent);
});

test('ingest loss → storage, citing stored vs transport points; failures counted as failed saves', { timeout: 120_000 }, async (t) => {
  const { server } = await faultedRun(t, { faults: { ingestLoss: 0.3 } }, { metrics: true });
  assert.equal(server.verdict.tier, 'storage', server.verdict.evidence.join('\n'));
  assert.ok(server.verdict.evidence.some((e) => e.includes('apiUsage.storageDataPointsCount') || e.includes('prometheus.tsQueueFailed')));
  assert.ok(server.verdict.evidence.some((e) => /^delivery: \d+ of \d+ acknowledged messages stored/.test(e)));
  assert.ok(series(server, 'apiUsage.storageDataPointsCount') < series(server, 'apiUsage.transportDataPointsCount'));
});

test('a transport rate limit → rate-limit, with its pattern', { timeout: 120_000 }, async (t) => {
  const { server } = await faultedRun(t, { rateLimits: { device: '6:60' } });
  assert.equal(server.verdict.tier, 'rate-limit', server.verdict.evidence.join('\n'));
  assert.match(server.verdict.evidence[0], /^delivery\.rateLimit: \d+ probable rate-limit events/);
});

test('as a run sink of the pipeline: judged after the run, the section with its verdict', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t, { serverStats: { intervalSec: WINDOW_SEC } });
  const fleet = await emulatorFleet(emu.restUrl, 5);
  const client = new TbClient({
    baseUrl: emu.restUrl,
    username: 'tenant@thingsboard.org',
    password: 'tenant',
    timeoutMs: 5000,
    retries: 1,
    connections: 4,
  });
  cleanup(t, () => client.close());
  const sink = serverStatsRunSink({
    client,
    queuePollMs: 1000,
    usagePollMs: 1000,
    queueWindowSec: WINDOW_SEC,
    settleMs: (WINDOW_SEC + 2) * 1000,
  });
  const config = testConfig(t, {
    MQTT_PORT: emu.mqttPort,
    TB_URL: emu.restUrl,
    MQTT_QOS: 1,
    DURATION_SEC: 8,
    PUBLISH_INTERVAL_SEC: 0.5,
    SHARDS: 1,
  });
  const report = await startRun(t, { config, fleet, writeFiles: false, sinks: [sink] }).done;
  const section = sink.section();
  assert.ok(section, 'judged');
  assert.equal(section.verdict.tier, 'none', section.verdict.evidence.join('\n'));
  assert.equal(series(section, 'apiUsage.transportMsgCount'), report.metrics.traffic.sent);
});
