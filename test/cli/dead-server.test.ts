// A dead server is not a rate limit (issue 20 #10): kill -9 of the emulator (a child process, as
// `--embedded` runs it) or of mosquitto mid-run. Closes right after a publish look like
// ThingsBoard's rate-limit disconnects, but with nothing alive afterwards (no session publishing,
// every reconnect refused) the report says `server closed` / `ECONNREFUSED`, never "rate limit
// suspected" or "tenant-wide".
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../../src/report/schema.js';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import { testFleet } from '../helpers/engine.js';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { startTblab, tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';

function assertNoRateLimit(report: RunReport): void {
  const m = report.metrics;
  const causes = JSON.stringify(m.disconnects.byCause);
  assert.ok(m.disconnects.total > 0, "the server's death closed the sessions");
  assert.doesNotMatch(causes, /rate limit/, causes);
  assert.equal(m.disconnects.byClass['rate-limit'] ?? 0, 0, causes);
  assert.ok((m.disconnects.byCause['server closed'] ?? 0) + (m.disconnects.byCause['connection lost (ECONNRESET)'] ?? 0) > 0, causes);
  assert.ok((m.connections.byOutcome.ECONNREFUSED ?? 0) > 0, JSON.stringify(m.connections.byOutcome));
  for (const [name, d] of Object.entries(report.devices)) {
    for (const x of d.disconnects) assert.notEqual(x.class, 'rate-limit', `${name}: ${x.cause}`);
  }
  const byCauseSum = Object.values(m.disconnects.byCause).reduce((a, n) => a + n, 0);
  const byClassSum = Object.values(m.disconnects.byClass).reduce((a, n) => a + (n ?? 0), 0);
  assert.equal(byClassSum, byCauseSum, 'causes and classes still add up');
  const rl = report.delivery?.rateLimit;
  if (rl) {
    assert.equal(rl.count, 0, JSON.stringify(rl.events.slice(0, 3)));
    assert.doesNotMatch(`${rl.pattern ?? ''} ${rl.advice ?? ''}`, /tenant-wide|per device|msg\/s/);
  }
  if (report.metrics.collapse) assert.doesNotMatch(report.metrics.collapse.dominantCause, /rate limit/);
}

function parseEmulator(stdout: string): { rest: string; mqttPort: number } {
  return { rest: /^REST (\S+)/m.exec(stdout)![1], mqttPort: Number(new URL(/^MQTT (\S+)/m.exec(stdout)![1]).port) };
}

test('kill -9 of the emulator mid-run: server closed / ECONNREFUSED, not a rate limit', { timeout: 180_000 }, async (t: TestContext) => {
  const cwd = tmpDir(t, 'tblab-dead-emu-');
  // slow PUBACKs: every session has a publish in flight when the server dies, as under a rate limit
  const emu = startTblab(t, ['emulator', '--http-port', '0', '--mqtt-port', '0', '--ack-latency-ms', '300'], { cwd });
  await emu.waitFor(/^MQTT /m, 30_000);
  const { rest, mqttPort } = parseEmulator(emu.stdout);
  const env = {
    TB_URL: rest,
    TB_USERNAME: 'tenant@thingsboard.org',
    TB_PASSWORD: 'tenant',
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(mqttPort),
    DEVICE_COUNT: '30',
    SHARDS: '2',
    DASHBOARD: '0',
    PUBLISH_INTERVAL_SEC: '0.04',
    RECONNECT_MIN_MS: '200',
    RECONNECT_MAX_MS: '400',
    DELIVERY_SETTLE_SEC: '0',
    REST_TIMEOUT_MS: '2000',
  };
  const prov = await tblab(t, ['provision'], { cwd, env });
  assert.equal(prov.code, 0, prov.stderr);
  const run = startTblab(t, ['run', '--duration', '8', '--json'], { cwd, env });
  await run.waitFor(/running: connected 30\/30/, 60_000);
  emu.child.kill('SIGKILL');
  await run.exit;
  const report = JSON.parse(readFileSync(JSON.parse(run.stdout).report, 'utf8')) as RunReport;
  t.diagnostic(`causes ${JSON.stringify(report.metrics.disconnects.byCause)}; notes ${report.metrics.generator.notes.join(' | ')}`);
  assertNoRateLimit(report);
});

test(
  'kill -9 of mosquitto mid-run: server closed / ECONNREFUSED, not a rate limit',
  { skip: hasMosquitto() ? false : 'mosquitto is not installed', timeout: 120_000 },
  async (t) => {
    const mosq = await startMosquitto(t);
    const cwd = tmpDir(t, 'tblab-dead-mosq-');
    writeTokenFile(join(cwd, 'data'), {
      version: 1,
      server: 'http://127.0.0.1:8080',
      prefix: 'sim',
      deviceProfileId: null,
      updatedAt: new Date().toISOString(),
      devices: Object.fromEntries(testFleet(30).map(({ name, ...d }) => [name, d])),
    });
    const env = {
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mosq.port),
      SHARDS: '2',
      DASHBOARD: '0',
      DELIVERY_CHECK: '0',
      PUBLISH_INTERVAL_SEC: '0.02',
      RECONNECT_MIN_MS: '200',
      RECONNECT_MAX_MS: '400',
    };
    const run = startTblab(t, ['run', '--devices', '30', '--duration', '8', '--json'], { cwd, env });
    await run.waitFor(/running: connected 30\/30/, 60_000);
    // killed with SIGKILL; back only after the run has ended
    const restarted = mosq.restart(12_000);
    await run.exit;
    await restarted;
    assertNoRateLimit(JSON.parse(readFileSync(JSON.parse(run.stdout).report, 'utf8')) as RunReport);
  },
);
