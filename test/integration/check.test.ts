import { test } from 'node:test';
import assert from 'node:assert/strict';
import { provision } from '../../src/lab/provision.js';
import { runCheck } from '../../src/lab/check.js';
import { readTokenFile, writeTokenFile } from '../../src/lab/fleet-file.js';
import type { HostFacts } from '../../src/lab/preflight.js';
import { labEnv, labConfig, sink, closedPort } from '../helpers/lab-fixtures.js';
import { startEmulator } from '../helpers/emulator.js';
import { tmpDir } from '../helpers/tmp.js';
import { tblab } from '../helpers/tblab-cli.js';
import { labContext } from '../../src/lab/context.js';

const roomyHost: HostFacts = {
  openFilesSoft: 20_000,
  openFilesHard: 20_000,
  portRange: [32768, 60999],
  memAvailableBytes: 8 * 2 ** 30,
  cores: 2,
};
const verdicts = (r: Awaited<ReturnType<typeof runCheck>>) => r.checks.map((c) => `${c.name}:${c.verdict}`);

test('check: login, devices, MQTT reachability and a CONNECT with a provisioned token, pre-flight', { timeout: 60_000 }, async (t) => {
  const e = await startEmulator(t);
  const dir = tmpDir(t);
  const env = labEnv(e, dir, { DEVICE_COUNT: '5' });
  const cfg = labConfig(env, dir);

  const before = await runCheck(labContext(), cfg, { host: roomyHost });
  assert.deepEqual(verdicts(before), [
    'login:OK',
    'devices:OK',
    'mqtt:OK',
    'mqtt connect:WARN',
    'plan:OK',
    'open files:OK',
    'ephemeral ports:OK',
    'memory:OK',
  ]);
  assert.equal(before.exitCode, 0);
  assert.match(before.checks[0].message, /^login as tenant@thingsboard\.org \(tenant [0-9a-f-]{36}\)/);

  await provision(labContext({ stderr: sink().stream }), cfg, { progress: false });
  const r = await tblab(t, ['check', '--json'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.ok, true);
  assert.match(r.stderr, /\[OK\] {2}MQTT CONNECT as sim-001 accepted \(CONNACK 0/);
  assert.match(r.stderr, /\[OK\] {2}devices: 5 named sim-\*/);

  // a token the server does not know: CONNACK 5, exit 4
  const tf = readTokenFile(cfg.dataDir)!;
  tf.devices['sim-001'].credentials = { type: 'ACCESS_TOKEN', token: 'not-a-token-of-this-server' };
  writeTokenFile(cfg.dataDir, tf);
  const refused = await runCheck(labContext(), cfg, { host: roomyHost });
  const line = refused.checks.find((c) => c.name === 'mqtt connect')!;
  assert.equal(line.verdict, 'FAIL');
  assert.match(line.message, /CONNACK 5/);
  assert.equal(refused.exitCode, 4);
});

test(
  'check: what would stop the run fails with exit 6; bad credentials exit 2; nothing listening exit 3',
  { timeout: 60_000 },
  async (t) => {
    const e = await startEmulator(t);
    const dir = tmpDir(t);
    const lowFiles = { ...roomyHost, openFilesSoft: 4096, openFilesHard: 4096 };
    // settings given explicitly are judged as they are: 15,000 per shard, one source address
    const explicit = { DEVICE_COUNT: '40000', MAX_CLIENTS_PER_PROCESS: '15000', SOURCE_ADDRESSES: '127.0.0.9' };
    const big = await runCheck(labContext(), labConfig(labEnv(e, dir, explicit), dir), { host: lowFiles });
    assert.deepEqual(verdicts(big).slice(4), ['plan:OK', 'open files:FAIL', 'ephemeral ports:FAIL', 'memory:OK']);
    assert.equal(big.exitCode, 6);
    // left to the plan, the same fleet fits: shards from the open-file limit, addresses on loopback
    const planned = await runCheck(labContext(), labConfig(labEnv(e, dir, { DEVICE_COUNT: '40000' }), dir), { host: lowFiles });
    assert.deepEqual(verdicts(planned).slice(4), ['plan:OK', 'open files:OK', 'ephemeral ports:OK', 'memory:OK']);
    assert.match(
      planned.checks[4].message,
      /^plan: 40,000 devices → 12 shard process\(es\) of ≤ 3,334 connections \(at most 3,622: 90 % of the open-file limit 4,096 − 64\); 8 source address\(es\) 127\.0\.0\.2–127\.0\.0\.9, ≤ 5,000 each \(planned/,
    );

    const wrong = await tblab(t, ['check'], { cwd: dir, env: labEnv(e, dir, { TB_PASSWORD: 'wrong' }) });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /\[FAIL\] login: .*Invalid username or password/);
    assert.match(wrong.stderr, /\[OK\] {2}MQTT/, 'the other checks still run');

    const port = await closedPort();
    const downEnv = { TB_URL: `http://127.0.0.1:${port}`, MQTT_PORT: String(port), DATA_DIR: `${dir}/data` };
    const down = await tblab(t, ['check'], { cwd: dir, env: downEnv });
    assert.equal(down.code, 3);
    assert.match(down.stderr, new RegExp(`\\[FAIL\\] login: Cannot reach ThingsBoard at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED`));
    assert.match(down.stderr, /\[FAIL\] MQTT mqtt:\/\/127\.0\.0\.1:\d+ not reachable: .*ECONNREFUSED/);
  },
);

test('check with MQTT_ENDPOINTS: every endpoint probed, the plan names each share; --set works, a bad list names the key', async (t) => {
  const e = await startEmulator(t);
  const dir = tmpDir(t);
  const port = await closedPort();
  const endpoints = `127.0.0.1:${e.mqttPort},127.0.0.1:${port},[::1]:${port}`;
  const cfg = labConfig(labEnv(e, dir, { DEVICE_COUNT: '10', MQTT_ENDPOINTS: endpoints }), dir);
  const r = await runCheck(labContext(), cfg, { host: roomyHost });
  assert.deepEqual(verdicts(r).slice(2, 6), ['mqtt endpoint 1/3:OK', 'mqtt endpoint 2/3:FAIL', 'mqtt endpoint 3/3:FAIL', 'plan:OK']);
  assert.equal(r.exitCode, 3);
  assert.match(r.checks[3].message, new RegExp(`^MQTT mqtt://127\\.0\\.0\\.1:${port} not reachable: .*ECONNREFUSED`));
  assert.match(r.checks[4].message, new RegExp(`^MQTT mqtt://\\[::1\\]:${port} not reachable`));
  assert.match(
    r.checks[5].message,
    new RegExp(`3 MQTT endpoints: 127\\.0\\.0\\.1:${e.mqttPort} 4, 127\\.0\\.0\\.1:${port} 3, \\[::1\\]:${port} 3$`),
  );

  // the same through the CLI's --set, and a value that is not host:port
  const env = labEnv(e, dir);
  const cli = await tblab(t, ['check', '--set', `MQTT_ENDPOINTS=127.0.0.1:${e.mqttPort},127.0.0.1:${port}`], { cwd: dir, env });
  assert.equal(cli.code, 3, cli.stderr);
  assert.match(cli.stderr, new RegExp(`\\[OK\\] {2}mqtt endpoint 1/2: MQTT mqtt://127\\.0\\.0\\.1:${e.mqttPort} reachable`));
  assert.match(cli.stderr, new RegExp(`\\[FAIL\\] mqtt endpoint 2/2: MQTT mqtt://127\\.0\\.0\\.1:${port} not reachable`));
  const bad = await tblab(t, ['check', '--set', 'MQTT_ENDPOINTS=127.0.0.1:1883,127.0.0.1'], { cwd: dir, env });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /error \[CONFIG_INVALID\]/);
  assert.match(
    bad.stderr,
    /MQTT_ENDPOINTS="127\.0\.0\.1:1883,127\.0\.0\.1" \(from flag\): expected host:port,host:port… .*got 127\.0\.0\.1/,
  );
  assert.match(bad.stderr, /hint: /);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});
