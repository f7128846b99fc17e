// `tblab suite` end to end: the built binary against the emulator (in this process, port 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTblab, tblab, cleanEnv } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { startEmulator, rest, restLogin, fetchStats, type StartedEmulator } from '../helpers/emulator.js';
import type { Faults } from '../../src/emulator/index.js';
import type { RunReport } from '../../src/report/schema.js';
import type { TestContext } from 'node:test';

const DEVICES = 8;

async function lab(t: TestContext, faults: Partial<Faults> = {}) {
  const emu = await startEmulator(t, { faults });
  const cwd = tmpDir(t, 'tblab-suite-');
  const env = cleanEnv({
    TB_URL: emu.restUrl,
    MQTT_PORT: String(emu.mqttPort),
    DEVICE_COUNT: String(DEVICES),
    SHARDS: '1',
    DASHBOARD: '0',
    CONNECT_RATE: '0',
  });
  return { emu, cwd, env, dataDir: join(cwd, 'data') };
}

const pausedList = (dataDir: string): string[] =>
  JSON.parse(readFileSync(join(dataDir, 'control', 'disabled_devices.json'), 'utf8')).devices;
const latest = (dataDir: string): RunReport => JSON.parse(readFileSync(join(dataDir, 'runs', 'latest.json'), 'utf8'));

/** manual_active of every device, read back from the emulator's attributes API like from ThingsBoard. */
async function manualActive(emu: StartedEmulator, dataDir: string): Promise<unknown[]> {
  const { token } = await restLogin(emu.restUrl);
  const tokens = JSON.parse(readFileSync(join(dataDir, 'provisioning', 'tokens.json'), 'utf8')) as {
    devices: Record<string, { id: string }>;
  };
  const out: unknown[] = [];
  for (const d of Object.values(tokens.devices)) {
    const r = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${d.id}/values/attributes/SERVER_SCOPE?keys=manual_active`, {
      token,
    });
    out.push((r.body as Array<{ key: string; value: unknown }>).find((a) => a.key === 'manual_active')?.value);
  }
  return out;
}

test(
  'suite provisions, activates, runs, deactivates and ends with the summary; a second suite reuses the fleet',
  { timeout: 180_000 },
  async (t) => {
    const { emu, cwd, env, dataDir } = await lab(t);
    const args = [
      'suite',
      '--deactivate-after',
      '--threshold',
      'ack_p99<5s',
      '--threshold',
      'connected_min>=devices',
      '--',
      '--duration',
      '3',
    ];
    const first = await tblab(t, args, { cwd, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`suite: provisioning ${DEVICES} devices on ${emu.restUrl} \\(no tokens.json yet\\)`));
    // the summary (with the thresholds table) is on stdout, like `tblab report`
    assert.match(first.stdout, /Thresholds: 2 of 2 passed/);
    assert.match(first.stdout, /Devices with errors: none/);
    assert.match(first.stderr, new RegExp(`suite: deactivated the fleet \\(${DEVICES} paused`));
    assert.equal(pausedList(dataDir).length, DEVICES);
    assert.deepEqual(await manualActive(emu, dataDir), Array(DEVICES).fill(false));
    const report = latest(dataDir);
    assert.equal(report.outcome, 'completed');
    assert.deepEqual(
      report.thresholds?.map((r) => r.ok),
      [true, true],
    );
    assert.equal((await fetchStats(emu.restUrl)).messages, report.metrics.traffic.acked, 'the emulator stored every acked publish');

    const second = await tblab(t, ['suite', '--', '--duration', '2'], { cwd, env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`suite: fleet of ${DEVICES} devices on file .*not provisioning`));
    assert.match(second.stderr, new RegExp(`suite: activated the fleet \\(${DEVICES} resumed`));
    assert.equal(pausedList(dataDir).length, 0);
    assert.deepEqual(await manualActive(emu, dataDir), Array(DEVICES).fill(true));
  },
);

test('stop from a second process interrupts the suite, which still deactivates the fleet (exit 130)', { timeout: 180_000 }, async (t) => {
  const { emu, cwd, env, dataDir } = await lab(t);
  const suite = startTblab(t, ['suite', '--deactivate-after', '--', '--duration', '0'], { cwd, env });
  await suite.waitFor(new RegExp(`running: connected ${DEVICES}/${DEVICES}`), 90_000);
  const stop = await tblab(t, ['stop'], { cwd, env });
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, /stopped run \S+ \(pid \d+\) in [\d.]+s; report: .*data\/runs\/\S+\.json/);
  const done = await suite.done;
  assert.equal(done.code, 130, done.stderr);
  assert.match(done.stderr, new RegExp(`suite: deactivated the fleet \\(${DEVICES} paused`));
  assert.equal(pausedList(dataDir).length, DEVICES);
  assert.deepEqual(await manualActive(emu, dataDir), Array(DEVICES).fill(false));
  assert.equal(latest(dataDir).outcome, 'aborted');
  assert.equal(existsSync(join(dataDir, 'control', 'tblab.pid')), false);
});

test('Ctrl+C (SIGINT) during the run: report written, fleet deactivated, exit 130', { timeout: 180_000 }, async (t) => {
  const { cwd, env, dataDir } = await lab(t);
  const suite = startTblab(t, ['suite', '--deactivate-after', '--', '--duration', '0'], { cwd, env });
  await suite.waitFor(/suite: activated the fleet/, 90_000);
  await suite.waitFor(/connected \d+\/\d+/, 60_000);
  suite.child.kill('SIGINT');
  const done = await suite.done;
  assert.equal(done.code, 130, done.stderr);
  assert.equal(pausedList(dataDir).length, DEVICES);
  assert.equal(latest(dataDir).endReason, 'SIGINT');
});

test('a failing threshold makes the suite exit 5, with the report written and the table printed', { timeout: 180_000 }, async (t) => {
  const { cwd, env, dataDir } = await lab(t);
  const r = await tblab(t, ['suite', '--threshold', 'sent>1M', '--threshold', 'failed_ratio<0.01', '--', '--duration', '2'], { cwd, env });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stdout, /Thresholds: 1 of 2 passed/);
  assert.match(r.stdout, /FAIL +sent>1M +sent = [\d,]+, required > 1,000,000/);
  assert.deepEqual(
    latest(dataDir).thresholds?.map((x) => x.ok),
    [false, true],
  );
});

test('--abort-on-fail stops a slow run early once the grace period is over (exit 5)', { timeout: 180_000 }, async (t) => {
  const { cwd, env, dataDir } = await lab(t, { ackLatencyMs: 300 });
  const r = await tblab(t, ['suite', '--threshold', 'ack_p99<100ms', '--abort-on-fail', '--abort-grace', '2', '--', '--duration', '120'], {
    cwd,
    env,
  });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /aborting: threshold failed — ack_p99 = [\d.]+ ms, required < 100 ms/);
  const report = latest(dataDir);
  assert.equal(report.outcome, 'aborted');
  assert.equal(report.endReason, 'threshold failed: ack_p99<100ms');
  assert.ok(report.durationSec < 60, `stopped early (${report.durationSec}s)`);
});

test(
  'suite --embedded checks delivery through the REST read-back and the emulator record, and both agree',
  { timeout: 180_000 },
  async (t) => {
    const cwd = tmpDir(t, 'tblab-cli-');
    const env = cleanEnv({ DEVICE_COUNT: '5', SHARDS: '1', METRICS_PORT: '0', PUBLISH_INTERVAL_SEC: '0.5' });
    const r = await tblab(t, ['suite', '--embedded', '--', '--duration', '3'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const report = latest(join(cwd, 'data', 'embedded'));
    assert.equal(report.delivery?.method, 'both');
    assert.equal(report.delivery?.crossCheck?.agree, true);
    assert.equal(report.delivery?.totals.stored, report.metrics.traffic.acked);
    assert.equal(report.delivery?.totals.lost, 0);
  },
);
