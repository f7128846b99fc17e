// The chronological run log `data/logs/<run-id>.log`: every shard's connects, disconnects with
// their cause, errors, pauses and one `Metrics |` line per snapshot, in time order, with the
// Python lab's markers so its grep filters work; per-publish lines (publish and PUBACK) only with
// --log-every-message.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import { writeJsonAtomic } from '../../src/common/fs.js';
import type { RunReport } from '../../src/report/schema.js';
import { startEmulator, type StartedEmulator } from '../helpers/emulator.js';
import { emulatorFleet } from '../helpers/engine.js';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';

async function labDir(t: TestContext, emu: StartedEmulator, devices: number): Promise<string> {
  const dir = tmpDir(t, 'tblab-run-log-');
  const fleet = await emulatorFleet(emu.restUrl, devices);
  writeTokenFile(join(dir, 'data'), {
    version: 1,
    server: emu.restUrl,
    prefix: 'sim',
    deviceProfileId: null,
    updatedAt: new Date().toISOString(),
    devices: Object.fromEntries(fleet.map(({ name, ...d }) => [name, d])),
  });
  return dir;
}

const envFor = (emu: StartedEmulator) => ({
  TB_URL: emu.restUrl,
  TB_USERNAME: 'tenant@thingsboard.org',
  TB_PASSWORD: 'tenant',
  MQTT_HOST: '127.0.0.1',
  MQTT_PORT: String(emu.mqttPort),
  SHARDS: '2',
  DASHBOARD: '0',
  CONNECT_RATE: '0',
  DELIVERY_CHECK: '0',
});

async function run(t: TestContext, dir: string, emu: StartedEmulator, args: string[]): Promise<{ report: RunReport; lines: string[] }> {
  const r = await tblab(t, ['run', '--json', ...args], { cwd: dir, env: envFor(emu) });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(JSON.parse(r.stdout).report, 'utf8')) as RunReport;
  assert.equal(report.files.log, join('logs', `${report.runId}.log`));
  const lines = readFileSync(join(dir, 'data', 'logs', `${report.runId}.log`), 'utf8')
    .trimEnd()
    .split('\n');
  return { report, lines };
}

const TIME = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) /;

test('run log: all shards in time order, causes and errors marked, one Metrics line per snapshot', { timeout: 120_000 }, async (t) => {
  // the emulator refuses some CONNECTs and closes half the sessions after 1 s: errors and causes to log
  const emu = await startEmulator(t, { faults: { refuseConnects: 0.3, dropShare: 0.5, dropAfterSec: 1 } });
  const dir = await labDir(t, emu, 8);
  const control = join(dir, 'data', 'control');
  writeJsonAtomic(join(control, 'disabled_devices.json'), { version: 1, updatedAt: new Date().toISOString(), devices: ['sim-002'] });
  const { report, lines } = await run(t, dir, emu, ['--devices', '8', '--duration', '5', '--interval', '0.5', '--qos', '1']);

  // time order across both shards
  const times = lines.map((l) => TIME.exec(l)?.[1]);
  assert.ok(
    times.every((x) => x !== undefined),
    `every line starts with a time:\n${lines.filter((l) => !TIME.test(l)).join('\n')}`,
  );
  for (let i = 1; i < times.length; i++) {
    assert.ok(times[i]! >= times[i - 1]!, `line ${i + 1} goes back in time:\n${lines[i - 1]}\n${lines[i]}`);
  }
  assert.ok(lines.some((l) => /shard 0 started/.test(l)) && lines.some((l) => /shard 1 started/.test(l)));

  // one Metrics line per merged snapshot (the timeline has one point per snapshot)
  const metrics = lines.filter((l) => l.includes('Metrics |'));
  assert.equal(metrics.length, report.timeline.length, 'one Metrics line per snapshot');
  assert.match(metrics.at(-1)!, new RegExp(`\\| sent ${report.metrics.traffic.sent} .*\\| acked ${report.metrics.traffic.acked} `));

  // connects, disconnects with cause, refusals as errors, the paused device — as the report counts them
  const connected = lines.filter((l) => /\[INFO\] \[MQTT\] sim-\d+ connected in /.test(l));
  assert.equal(connected.length, report.metrics.connections.succeeded);
  const refused = lines.filter((l) => /\[ERR\] \[MQTT\] sim-\d+ connect failed: .+ \(class \w+\)$/.test(l));
  assert.equal(refused.length, report.metrics.connections.failed);
  assert.ok(
    refused.some((l) => l.includes('refused: server unavailable (3)')),
    'the refused CONNECTs, with their cause',
  );
  const drops = lines.filter((l) => /\[WARN\] \[MQTT\] sim-\d+ disconnected: .+ \(class \w+\)/.test(l));
  assert.ok(
    drops.some((l) => l.includes('disconnected: server closed')),
    'sessions closed by the server, with their cause',
  );
  assert.equal(drops.length + refused.length, report.metrics.disconnects.total, 'every disconnect the report counts is logged');
  assert.ok(lines.some((l) => /\[WARN\] sim-002 paused/.test(l)));
  assert.ok(!lines.some((l) => /\bsim-002 connected/.test(l)), 'the paused device never connected');

  // the Python lab's filter finds these lines; without --log-every-message no per-publish line
  const filtered = lines.filter((l) => /Metrics \||\[MQTT\]|\[ERR\]/i.test(l));
  assert.equal(filtered.length, metrics.length + connected.length + refused.length + drops.length);
  assert.ok(!lines.some((l) => /PUBLISH|PUBACK/.test(l)), 'no per-publish lines by default');
});

test('run log with --log-every-message: every publish and its PUBACK', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t);
  const dir = await labDir(t, emu, 4);
  const args = ['--devices', '4', '--duration', '3', '--interval', '0.5', '--qos', '1', '--log-every-message'];
  const { report, lines } = await run(t, dir, emu, args);
  const t0 = report.metrics.traffic;
  assert.ok(t0.sent > 0 && t0.acked === t0.sent);
  const pubs = lines.filter((l) => /\[MQTT\] sim-\d+ PUBLISH sequence \d+, \d+ B, packet \d+/.test(l));
  const acks = lines.filter((l) => /\[MQTT\] sim-\d+ PUBACK packet \d+ in [\d.]+ ms/.test(l));
  assert.equal(pubs.length, t0.sent, 'one line per publish');
  assert.equal(acks.length, t0.acked, 'one line per PUBACK');
  // each PUBACK follows its publish (same device, same packet id)
  const key = (l: string, what: string) => /(sim-\d+) /.exec(l.slice(24))![1] + ' ' + new RegExp(`${what} (\\d+)`).exec(l)![1];
  const seen = new Set<string>();
  for (const l of lines) {
    if (pubs.includes(l)) seen.add(key(l, 'packet'));
    else if (acks.includes(l)) assert.ok(seen.has(key(l, 'packet')), `PUBACK before its PUBLISH: ${l}`);
  }
});
