// Out of open files is a measured cause, not a crash. The lab runs under a low RLIMIT_NOFILE (200,
// set by `ulimit -n` in the shell that execs node: the shard processes inherit it) with more devices
// than one shard process can hold. Left to the plan (MAX_CLIENTS_PER_PROCESS=0) the fleet is split
// into shards that fit; with MAX_CLIENTS_PER_PROCESS set above the limit `tblab run` refuses before
// connecting, with the same verdict as `tblab check`; with PREFLIGHT=warn it runs, connects past the
// limit fail with EMFILE and are counted as such, the shard keeps reporting to the end and the
// report is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator } from '../helpers/emulator.js';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';

const LIMIT = 200;
const DEVICES = 300;
const via = ['sh', '-c', `ulimit -n ${LIMIT} && exec "$0" "$@"`];

const TITLE = 'open-file limit: run refuses like check does; with PREFLIGHT=warn EMFILE is counted and the shard lives';
test(TITLE, { timeout: 180_000 }, async (t) => {
  const emu = await startEmulator(t);
  const dir = tmpDir(t, 'tblab-emfile-');
  const env: Record<string, string> = {
    TB_URL: emu.restUrl,
    MQTT_PORT: String(emu.mqttPort),
    DEVICE_COUNT: String(DEVICES),
    SHARDS: '1',
    METRICS_PORT: '0',
    DELIVERY_CHECK: '0',
    CONNECT_RATE: '0',
  };
  const prov = await tblab(t, ['provision'], { cwd: dir, env, timeoutMs: 90_000 });
  assert.equal(prov.code, 0, prov.stderr);

  // planned: shards of at most 90 % of the limit − 64 = 116 connections
  const fits = await tblab(t, ['check'], { cwd: dir, env, via, timeoutMs: 60_000 });
  assert.equal(fits.code, 0, fits.stderr);
  assert.match(
    fits.stderr,
    /\[OK\] {2}plan: 300 devices → 3 shard process\(es\) of ≤ 100 connections \(at most 116: 90 % of the open-file limit 200 − 64\)/,
  );
  assert.match(fits.stderr, /\[OK\] {2}open files: 100 connections per process × 3 shard\(s\) need ~164 open files; limit 200/);
  env.MAX_CLIENTS_PER_PROCESS = '15000'; // the user's cap: judged as it is

  const check = await tblab(t, ['check'], { cwd: dir, env, via, timeoutMs: 60_000 });
  const checkLine = /\[FAIL\] open files: (.*)/.exec(check.stderr);
  assert.ok(checkLine, check.stderr);
  const verdict = `${DEVICES} connections per process × 1 shard\\(s\\) need ~${DEVICES + 64} open files; limit ${LIMIT}`;
  assert.match(checkLine[1], new RegExp(verdict));
  assert.equal(check.code, 6);

  const acceptedBefore = emu.stats().connections.accepted; // check's own MQTT CONNECT
  const refused = await tblab(t, ['run', '--duration', '3', '--json'], { cwd: dir, env, via, timeoutMs: 60_000 });
  assert.equal(refused.code, 6, refused.stderr);
  assert.match(refused.stderr, /\[FAIL\] open files: /);
  assert.equal(/\[FAIL\] open files: (.*)/.exec(refused.stderr)![1], checkLine[1], 'run and check give the same verdict');
  assert.match(refused.stderr, /error \[PREFLIGHT_FAILED\]/);
  assert.match(refused.stderr, /hint: .*MAX_CLIENTS_PER_PROCESS.*PREFLIGHT=warn/);
  assert.equal(JSON.parse(refused.stdout).error.code, 'PREFLIGHT_FAILED');
  assert.equal(existsSync(join(dir, 'data', 'runs')) && readdirSync(join(dir, 'data', 'runs')).length > 0, false, 'no run started');
  assert.equal(emu.stats().connections.accepted, acceptedBefore, 'nothing connected');

  const ran = await tblab(t, ['run', '--duration', '6', '--preflight', 'warn', '--json'], { cwd: dir, env, via, timeoutMs: 120_000 });
  assert.match(ran.stderr, /warning: open files: .*limit 200;.*\(PREFLIGHT=warn: running anyway/);
  assert.doesNotMatch(ran.stderr, /uv_resident_set_memory|Error: EMFILE/, 'no shard died of EMFILE');
  const summary = JSON.parse(ran.stdout);
  const report = JSON.parse(readFileSync(summary.report, 'utf8'));
  const m = report.metrics;
  assert.notEqual(report.endReason, 'all shards crashed');
  assert.equal(report.endReason, 'duration reached');
  assert.deepEqual(
    m.shards.map((s: { state: string }) => s.state),
    ['done'],
    'the shard lived to the end',
  );
  assert.equal(m.generator.crashedShards ?? 0, 0);
  assert.ok(m.connections.peakConnected > 50 && m.connections.peakConnected < DEVICES, `peak ${m.connections.peakConnected}`);
  assert.ok(m.connections.byOutcome.EMFILE > 0, JSON.stringify(m.connections.byOutcome));
  assert.equal(m.connections.failed, m.connections.byOutcome.EMFILE, 'every failed connect is an EMFILE');
  assert.equal(m.disconnects.byCause.EMFILE, m.connections.byOutcome.EMFILE);
  assert.equal(m.disconnects.byClass.resources, m.disconnects.byCause.EMFILE);
  assert.ok(m.traffic.acked > 0);
  // the shard kept reporting: the timeline reaches the end of the run with the devices it holds connected
  const late = report.timeline.filter((p: { t: number; connected: number }) => p.t >= 5 && p.connected === m.connections.peakConnected);
  assert.ok(late.length > 0, JSON.stringify(report.timeline.map((p: { t: number; connected: number }) => [p.t, p.connected])));
});
