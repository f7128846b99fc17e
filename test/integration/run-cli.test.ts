// `tblab run` as a user runs it: the built CLI, a tokens.json, SIGINT mid-run → a complete
// report, exit code 130, pid file removed; a second lab on the same pid file is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import { writeJsonAtomic } from '../../src/shared/fs.js';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { testFleet } from '../helpers/engine.js';

const skip = hasMosquitto() ? false : 'mosquitto is not installed (apt-get install -y mosquitto)';
const CLI = resolve('dist/src/cli/main.js');

function labDir(devices: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'tblab-cli-run-'));
  const fleet = testFleet(devices);
  writeTokenFile(join(dir, 'data'), {
    version: 1, server: 'http://127.0.0.1:8080', prefix: 'sim', deviceProfileId: null, updatedAt: new Date().toISOString(),
    devices: Object.fromEntries(fleet.map(({ name, ...d }) => [name, d])),
  });
  return dir;
}

function spawnRun(dir: string, port: number, args: string[]) {
  const child = spawn(process.execPath, [CLI, 'run', ...args], { cwd: dir, env: { PATH: process.env.PATH, MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), SHARDS: '2' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

test('SIGINT mid-run: publishing stops, acks drain, the report is complete, exit 130', { skip, timeout: 120_000 }, async (t) => {
  const { port } = await startMosquitto(t);
  const dir = labDir(50);
  const p = spawnRun(dir, port, ['--devices', '50', '--duration', '120', '--qos', '1', '--interval', '0.5', '--json']);
  t.after(() => p.child.kill('SIGKILL'));
  const pidFile = join(dir, 'data', 'control', 'tblab.pid');
  const until = Date.now() + 60_000;
  while (!/connected 50\/50/.test(p.err()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  assert.ok(existsSync(pidFile), 'pid file written while running');
  assert.equal(JSON.parse(readFileSync(pidFile, 'utf8')).pid, p.child.pid);
  p.child.kill('SIGINT');
  assert.equal(await p.exit, 130, p.err());
  const summary = JSON.parse(p.out());
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
  const dir = labDir(5);
  writeJsonAtomic(join(dir, 'data', 'control', 'tblab.pid'), { pid: process.pid, runId: 'other', startedAt: '', instance: null, dashboardUrl: null, controlTokenFile: null });
  const p = spawnRun(dir, port, ['--devices', '5', '--duration', '1']);
  assert.equal(await p.exit, 2);
  assert.match(p.err(), /ALREADY_RUNNING/);
});

test('no token file: NO_FLEET with the path and a hint', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tblab-cli-run-'));
  const p = spawnRun(dir, 1, ['--duration', '1']);
  assert.equal(await p.exit, 2);
  assert.match(p.err(), /NO_FLEET.*tokens\.json/s);
  assert.match(p.err(), /tblab provision/);
});
