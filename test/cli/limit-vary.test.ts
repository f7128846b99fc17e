// `tblab limit --vary devices` and `--vary connect-rate` end to end: the real CLI against an emulator
// with a connection limit the search should find. Devices: a server that holds at most 25 sessions
// (the emulator's maxConnections fault; CONNACK 3 beyond). Connect rate: a server that validates 50
// CONNECTs per second and refuses those whose validation would take over 200 ms (--connect-capacity,
// connect-capacity.ts). No per-step REST read-back (DELIVERY_CHECK=0) keeps each search short.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { startEmulator, fetchStats, type StartedEmulator } from '../helpers/emulator.js';
import type { LimitVerdict } from '../../src/lab/limit/types.js';

async function search(t: TestContext, emu: StartedEmulator, devices: number, args: string[]) {
  const cwd = tmpDir(t, 'tblab-limit-vary-');
  const env = {
    TB_URL: emu.restUrl,
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(emu.mqttPort),
    DEVICE_COUNT: String(devices),
    SHARDS: '1',
    DASHBOARD: '0',
    CONNECT_RATE: '0',
    DELIVERY_CHECK: '0',
    DRAIN_TIMEOUT_MS: '1000',
  };
  const prov = await tblab(t, ['provision'], { cwd, env });
  assert.equal(prov.code, 0, prov.stderr);
  const started = Date.now();
  const r = await tblab(t, ['limit', ...args, '--resolution', '99%', '--settle', '0', '--json'], { cwd, env, timeoutMs: 90_000 });
  t.diagnostic(
    `${Math.round((Date.now() - started) / 1000)} s\n${r.stderr
      .split('\n')
      .filter((l) => l.startsWith('limit'))
      .join('\n')}`,
  );
  assert.equal(r.code, 0, r.stderr);
  const v = (JSON.parse(r.stdout) as { limit: LimitVerdict }).limit;
  t.diagnostic(v.sentence);
  return v;
}

test('--vary devices finds a 25-session server: 25 devices sustained, 40 refused beyond the limit', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t, { faults: { maxConnections: 25 } });
  // 10 and 40 climb (factor 4), then the midpoint 25 is within the 99 % resolution of the gap
  const v = await search(
    t,
    emu,
    40,
    ['--vary', 'devices', '--from', '10', '--to', '40', '--step-factor', '4', '--interval', '0.5'].concat('--step-hold', '3'),
  );
  assert.deepEqual(
    v.steps.map((s) => [s.asked, s.passed]),
    [
      [10, true],
      [40, false],
      [25, true],
    ],
  );
  assert.equal(v.outcome, 'found');
  assert.equal(v.sustained, 25);
  assert.equal(v.brokeAt, 40);
  assert.equal(v.firstBroken, 'connect_failure_ratio');
  assert.equal(v.tier, 'connections');
  const bad = v.steps[1];
  assert.equal(bad.reached, 25, 'devices connected at the failing step: the server’s limit');
  assert.match(v.sentence, /sustained 25 devices at \d+ msg\/s.*failed at 40 devices: connect failures/);
  assert.ok((await fetchStats(emu.restUrl)).faults.refusedByCap > 0);
});

test('--vary connect-rate finds a 50 CONNECTs/s server: the storm above it times out validations', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t, { connectCapacity: 50, connectCapacityTimeoutMs: 200 });
  // 40 devices: 20, 40 and 80 connects/s climb (ramps of 2, 1 and 0.5 s), then the midpoint 60
  const v = await search(t, emu, 40, ['--vary', 'connect-rate', '--from', '20', '--to', '80', '--interval', '1', '--step-hold', '2']);
  assert.deepEqual(
    v.steps.slice(0, 3).map((s) => [s.asked, s.passed]),
    [
      [20, true],
      [40, true],
      [80, false],
    ],
  );
  assert.equal(v.outcome, 'found');
  assert.ok(v.sustained === 40 || v.sustained === 60, `sustained ${v.sustained}`);
  assert.equal(v.firstBroken, 'connect_failure_ratio');
  assert.equal(v.tier, 'connections');
  for (const s of v.steps.filter((x) => x.passed)) {
    // the rate the fleet connected at, measured over its ramp: the rate asked, up to the server's 50/s
    const expected = Math.min(s.asked, 50);
    assert.ok(s.reached >= expected * 0.75 && s.reached <= expected * 1.1, `${s.asked} connects/s asked, ${s.reached} reached`);
    assert.ok(s.measurement.connectP99Ms !== null && s.measurement.connectP99Ms! < 200, `connect p99 ${s.measurement.connectP99Ms} ms`);
  }
  const storm = v.steps[2];
  assert.ok(
    storm.measurement.connectFailures > 0 && storm.reached < 50,
    `80/s: ${storm.reached} reached, ${storm.measurement.connectFailures} failed`,
  );
  const stats = (await fetchStats(emu.restUrl)).connectCapacity!;
  assert.ok(stats.timedOut >= storm.measurement.connectFailures, JSON.stringify(stats));
});
