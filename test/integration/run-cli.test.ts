// `tblab run` as a user runs it: the built CLI, a tokens.json, SIGINT mid-run → a complete
// report, exit code 130, pid file removed; a second lab on the same pid file is refused.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import { writeJsonAtomic } from '../../src/common/fs.js';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { testFleet } from '../helpers/engine.js';
import { startTblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';

const skip = hasMosquitto() ? false : 'mosquitto is not installed (apt-get install -y mosquitto)';

function labDir(t: TestContext, devices: number): string {
  const dir = tmpDir(t, 'tblab-cli-run-');
  const fleet = testFleet(devices);
  writeTokenFile(join(dir, 'data'), {
    version: 1,
    server: 'http://127.0.0.1:8080',
    prefix: 'sim',
    deviceProfileId: null,
    updatedAt: new Date().toISOString(),
    devices: Object.fromEntries(fleet.map(({ name, ...d }) => [name, d])),
  });
  return dir;
}

function spawnRun(t: TestContext, dir: string, port: number, args: string[]) {
  const env = { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), SHARDS: '2', METRICS_PORT: '0' };
  return startTblab(t, ['run', ...args], { cwd: dir, env });
}

test('SIGINT mid-run: publishing stops, acks drain, the report is complete, exit 130', { skip, timeout: 120_000 }, async (t) => {
  const { port } = await startMosquitto(t);
  const dir = labDir(t, 50);
  const p = spawnRun(t, dir, port, ['--devices', '50', '--duration', '120', '--qos', '1', '--interval', '0.5', '--json']);
  const pidFile = join(dir, 'data', 'control', 'tblab.pid');
  const until = Date.now() + 60_000;
  while (!/connected 50\/50/.test(p.stderr) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  assert.ok(existsSync(pidFile), 'pid file written while running');
  assert.equal(JSON.parse(readFileSync(pidFile, 'utf8')).pid, p.child.pid);
  p.child.kill('SIGINT');
  assert.equal((await p.exit).code, 130, p.stderr);
  const summary = JSON.parse(p.stdout);
  assert.equal(summary.outcome, 'aborted');
  const report = JSON.parse(readFileSync(summary.report, 'utf8'));
  assert.equal(report.outcome, 'aborted');
  assert.equal(report.endReason, 'SIGINT');
  assert.ok(report.endedAt);
  assert.equal(Object.keys(report.devices).length, 50);
  const m = report.metrics;
  assert.ok(m.traffic.sent > 0);
  assert.equal(m.traffic.acked + m.traffic.failed, m.traffic.sent, 'nothing left in flight');
  assert.equal(m.traffic.inFlight, 0);
  assert.equal(report.timeline.length > 0, true);
  assert.ok(report.histograms.ackMs);
  assert.equal(existsSync(pidFile), false, 'pid file removed');
});

test('a second lab on a pid file held by a live process is refused (ALREADY_RUNNING)', { skip, timeout: 60_000 }, async (t) => {
  const { port } = await startMosquitto(t);
  const dir = labDir(t, 5);
  writeJsonAtomic(join(dir, 'data', 'control', 'tblab.pid'), {
    pid: process.pid,
    runId: 'other',
    startedAt: '',
    instance: null,
    dashboardUrl: null,
    controlTokenFile: null,
  });
  const p = spawnRun(t, dir, port, ['--devices', '5', '--duration', '1']);
  assert.equal((await p.exit).code, 2);
  assert.match(p.stderr, /ALREADY_RUNNING/);
});

test('no token file: NO_FLEET with the path and a hint', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t, 'tblab-cli-run-');
  const p = spawnRun(t, dir, 1, ['--duration', '1']);
  assert.equal((await p.exit).code, 2);
  assert.match(p.stderr, /NO_FLEET.*tokens\.json/s);
  assert.match(p.stderr, /tblab provision/);
});

test(
  '--embedded: emulator child, fleet provisioned into it, run, emulator stopped; tokens.json untouched',
  { timeout: 120_000 },
  async (t) => {
    const dir = tmpDir(t, 'tblab-cli-run-');
    const p = spawnRun(t, dir, 1, ['--embedded', '--devices', '20', '--duration', '2', '--qos', '1', '--json']);
    assert.equal((await p.exit).code, 0, p.stderr);
    const summary = JSON.parse(p.stdout);
    assert.equal(summary.outcome, 'completed');
    assert.ok(summary.sent > 0);
    assert.equal(summary.acked, summary.sent);
    const report = JSON.parse(readFileSync(summary.report, 'utf8'));
    assert.equal(Object.keys(report.devices).length, 20);
    assert.match(report.metrics.target.mqtt, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(existsSync(join(dir, 'data', 'provisioning', 'tokens.json')), false, 'the real fleet file is not touched');
    assert.equal(existsSync(join(dir, 'data', 'embedded', 'provisioning', 'tokens.json')), true);
    const port = Number(new URL(report.metrics.target.mqtt).port);
    const refused = await new Promise<boolean>((res) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        res(false);
      });
      c.on('error', () => res(true));
    });
    assert.ok(refused, 'the emulator child was stopped');
  },
);

test(
  'the main process killed hard: the last checkpoint (outcome partial) is on disk and the shards exit',
  { skip, timeout: 120_000 },
  async (t) => {
    const { port } = await startMosquitto(t);
    const dir = labDir(t, 10);
    const p = spawnRun(t, dir, port, ['--devices', '10', '--duration', '120', '--interval', '0.5']);
    const latest = join(dir, 'data', 'runs', 'latest.json');
    const until = Date.now() + 60_000;
    while (!existsSync(latest) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGKILL');
    await p.exit;
    const report = JSON.parse(readFileSync(latest, 'utf8'));
    assert.equal(report.outcome, 'partial');
    assert.equal(report.endedAt, null);
    assert.equal(Object.keys(report.devices).length, 10);
    assert.ok(report.timeline.length >= 1);
    const pids: number[] = report.metrics.shards.map((s: { pid: number }) => s.pid);
    const deadline = Date.now() + 20_000;
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(pids.filter(alive), [], 'shards exit when the supervisor is gone');
  },
);
