// DURATION_SEC unset: a run aimed at a real server lasts until stopped (as the Python lab's did);
// the embedded demo keeps its bounded default. A run whose whole fleet is paused says so at start,
// with the command that resumes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTblab, tblab, cleanEnv } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { startEmulator } from '../helpers/emulator.js';
import type { RunReport } from '../../src/report/schema.js';

const DEVICES = 3;

const title = 'unset DURATION_SEC against a real server runs until Ctrl+C; a paused fleet is announced with the command that resumes it';
test(title, { timeout: 180_000 }, async (t) => {
  const emu = await startEmulator(t);
  const cwd = tmpDir(t, 'tblab-duration-');
  const env = cleanEnv({
    TB_URL: emu.restUrl,
    MQTT_PORT: String(emu.mqttPort),
    DEVICE_COUNT: String(DEVICES),
    SHARDS: '1',
    DASHBOARD: '0',
  });
  const prov = await tblab(t, ['provision', '--no-progress'], { cwd, env });
  assert.equal(prov.code, 0, prov.stderr);

  const run = startTblab(t, ['run'], { cwd, env });
  await run.waitFor(/DURATION_SEC is not set: the run lasts until Ctrl\+C or `tblab stop`/, 60_000);
  await run.waitFor(new RegExp(`connected ${DEVICES}/${DEVICES}`), 60_000);
  assert.doesNotMatch(run.stderr, /paused/, 'nothing paused: no notice');
  run.child.kill('SIGINT');
  const done = await run.done;
  assert.equal(done.code, 130, done.stderr);
  const report = JSON.parse(readFileSync(join(cwd, 'data', 'runs', 'latest.json'), 'utf8')) as RunReport;
  assert.equal(report.endReason, 'SIGINT');
  assert.equal(report.config.durationSec, undefined, 'no duration was set for the engine to reach');

  // the whole fleet paused by hand, in the Python lab's plain-array form
  const names = Object.keys(JSON.parse(readFileSync(join(cwd, 'data', 'provisioning', 'tokens.json'), 'utf8')).devices);
  mkdirSync(join(cwd, 'data', 'control'), { recursive: true });
  writeFileSync(join(cwd, 'data', 'control', 'disabled_devices.json'), JSON.stringify(names));
  const paused = await tblab(t, ['run', '--duration', '1'], { cwd, env });
  const whole = `warning: the whole fleet of this run is paused \\(${DEVICES} devices in .*disabled_devices\\.json\\)`;
  assert.match(paused.stderr, new RegExp(whole));
  assert.match(paused.stderr, /`tblab devices activate --all` resumes it/);
  assert.doesNotMatch(paused.stderr, /DURATION_SEC is not set/, 'a duration was given');

  writeFileSync(join(cwd, 'data', 'control', 'disabled_devices.json'), JSON.stringify(names.slice(0, 1)));
  const some = await tblab(t, ['run', '--duration', '1'], { cwd, env });
  assert.match(some.stderr, new RegExp(`note: 1 of the ${DEVICES} devices of this run are paused`));
});

test('the embedded demo keeps a bounded default (60 s); --help says both', { timeout: 120_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-duration-');
  const env = cleanEnv({ DEVICE_COUNT: '2', SHARDS: '1', METRICS_PORT: '0' });
  const run = startTblab(t, ['run', '--embedded'], { cwd, env });
  await run.waitFor(/DURATION_SEC is not set: the embedded demo runs 60 s \(--duration 0 = until stopped\)/, 60_000);
  await run.waitFor(/connected 2\/2/, 60_000);
  assert.doesNotMatch(run.stderr, /lasts until Ctrl\+C/);
  run.child.kill('SIGINT');
  assert.equal((await run.done).code, 130);
  const report = JSON.parse(readFileSync(join(cwd, 'data', 'embedded', 'runs', 'latest.json'), 'utf8')) as RunReport;
  assert.equal(report.config.durationSec, 60, 'the embedded target bounds the run');
  const top = await tblab(t, ['--help'], { cwd, env });
  const topHelp = top.stdout.replace(/\s+/g, ' ');
  assert.match(topHelp, /until Ctrl\+C or `tblab stop` against a real server unless --duration .* --embedded \(npm start\) it lasts 60 s/);
  for (const cmd of ['run', 'suite']) {
    const help = await tblab(t, [cmd, '--help'], { cwd, env });
    assert.match(help.stdout.replace(/\s+/g, ' '), /Unset: until stopped against a real server, 60 with --embedded/, `${cmd} --help`);
  }
});
