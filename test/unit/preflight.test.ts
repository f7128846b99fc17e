import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preflight, connectionPlan, readHostFacts, type HostFacts } from '../../src/lab/preflight.js';
import { describePlan } from '../../src/lab/connection-plan.js';
import { loadConfigOrThrow } from '../../src/config/index.js';

const host: HostFacts = {
  openFilesSoft: 20_000,
  openFilesHard: 20_000,
  portRange: [32768, 60999],
  memAvailableBytes: 8 * 2 ** 30,
  cores: 2,
};
const cfg = (env: Record<string, string>) => loadConfigOrThrow({ env, envFile: false }).config;
const verdicts = (env: Record<string, string>, h = host) =>
  Object.fromEntries(preflight(connectionPlan(cfg(env), h), h).map((c) => [c.name, c.verdict]));

test('a modest fleet passes every pre-flight check', () => {
  assert.deepEqual(verdicts({ DEVICE_COUNT: '10000' }), { 'open files': 'OK', 'ephemeral ports': 'OK', memory: 'OK' });
});

test('more connections than ephemeral ports to one endpoint fails; source addresses or more endpoints fix it', () => {
  const far = { MQTT_HOST: '10.0.0.5', DEVICE_COUNT: '50000' };
  assert.equal(verdicts(far)['ephemeral ports'], 'FAIL');
  assert.equal(verdicts({ ...far, SOURCE_ADDRESSES: '10.0.0.20-10.0.0.29' })['ephemeral ports'], 'OK');
  assert.equal(verdicts({ ...far, SOURCE_ADDRESSES: '10.0.0.20-10.0.0.21' })['ephemeral ports'], 'WARN');
  // unbound, the kernel picks ports per destination: three endpoints hold a third each
  assert.equal(verdicts({ ...far, MQTT_ENDPOINTS: '10.0.0.5:1883,10.0.0.6:1883,10.0.0.7:1883' })['ephemeral ports'], 'OK');
  const line = preflight(connectionPlan(cfg(far), host), host).find((l) => l.name === 'ephemeral ports')!;
  assert.match(line.message, /50000 connections to the endpoint from one source address.*use at least 10 SOURCE_ADDRESSES/);
});

test('a loopback target gets source addresses planned at ~5,000 each; each instance its own block', () => {
  const p = connectionPlan(cfg({ DEVICE_COUNT: '100000' }), host);
  assert.equal(p.addressesPlanned, true);
  assert.equal(p.addresses.length, 20);
  assert.deepEqual([p.addresses[0], p.addresses[19]], ['127.0.0.2', '127.0.0.21']);
  assert.equal(p.perAddress, 5000);
  assert.equal(p.shards, 7, '100,000 devices at ≤ 15,000 per shard');
  assert.equal(p.perProcess, 14286);
  assert.deepEqual(verdicts({ DEVICE_COUNT: '100000' }), { 'open files': 'OK', 'ephemeral ports': 'OK', memory: 'OK' });

  const i2 = connectionPlan(cfg({ DEVICE_COUNT: '100000', INSTANCE: '2/4' }), host);
  assert.equal(i2.devices, 25_000);
  assert.deepEqual(i2.addresses, ['127.0.1.2', '127.0.1.3', '127.0.1.4', '127.0.1.5', '127.0.1.6']);
  // small fleets, configured addresses and remote targets are left alone
  assert.deepEqual(connectionPlan(cfg({ DEVICE_COUNT: '5000' }), host).addresses, []);
  assert.deepEqual(connectionPlan(cfg({ DEVICE_COUNT: '9000', SOURCE_ADDRESSES: '127.0.0.9' }), host).addresses, ['127.0.0.9']);
  assert.deepEqual(connectionPlan(cfg({ DEVICE_COUNT: '9000', MQTT_HOST: '10.0.0.5' }), host).addresses, []);
  assert.equal(connectionPlan(cfg({ DEVICE_COUNT: '9000', MQTT_ENDPOINTS: '127.0.0.1:1,10.0.0.5:2' }), host).addressesPlanned, false);
});

test('shards are planned from the open-file limit unless MAX_CLIENTS_PER_PROCESS is set', () => {
  const low = { ...host, openFilesSoft: 1024, openFilesHard: 4096 };
  const planned = connectionPlan(cfg({ DEVICE_COUNT: '5000' }), low);
  assert.equal(planned.maxPerProcessFrom, 'open files');
  assert.equal(planned.maxPerProcess, Math.floor(0.9 * 1024) - 64);
  assert.equal(planned.shards, Math.ceil(5000 / planned.maxPerProcess));
  assert.equal(verdicts({ DEVICE_COUNT: '5000' }, low)['open files'], 'OK');
  assert.match(
    describePlan(planned, low),
    /^5,000 devices → 6 shard process\(es\) of ≤ 834 connections \(at most 857: 90 % of the open-file limit 1,024 − 64\)/,
  );

  // an explicit cap is the user's: judged, not changed
  const lines = preflight(connectionPlan(cfg({ DEVICE_COUNT: '5000', MAX_CLIENTS_PER_PROCESS: '15000' }), low), low);
  const of = lines.find((l) => l.name === 'open files')!;
  assert.equal(of.verdict, 'FAIL');
  assert.equal(of.code, 'PREFLIGHT_FAILED');
  assert.match(of.message, /ulimit -n 4096|MAX_CLIENTS_PER_PROCESS/);
  assert.equal(verdicts({ DEVICE_COUNT: '5000', MAX_CLIENTS_PER_PROCESS: '900' }, low)['open files'], 'OK');
});

test('devices per endpoint follow the fleet index: i → (i − 1) mod K, the same slice arithmetic on every instance', () => {
  const ends = '127.0.0.1:1883,127.0.0.1:1884,127.0.0.1:1885';
  const whole = connectionPlan(cfg({ DEVICE_COUNT: '100', MQTT_ENDPOINTS: ends }), host);
  assert.deepEqual(
    whole.endpoints.map((e) => e.devices),
    [34, 33, 33],
  );
  const halves = ['1/2', '2/2'].map((i) => connectionPlan(cfg({ DEVICE_COUNT: '100', MQTT_ENDPOINTS: ends, INSTANCE: i }), host));
  // 1..50 → 17, 17, 16; 51..100 → 17, 16, 17
  assert.deepEqual(
    halves.map((p) => p.endpoints.map((e) => e.devices)),
    [
      [17, 17, 16],
      [17, 16, 17],
    ],
  );
  assert.match(describePlan(whole, host), /3 MQTT endpoints: 127\.0\.0\.1:1883 34, 127\.0\.0\.1:1884 33, 127\.0\.0\.1:1885 33$/);
});

test('memory estimate above what is available fails', () => {
  assert.equal(verdicts({ DEVICE_COUNT: '100000' }, { ...host, memAvailableBytes: 512 * 2 ** 20 }).memory, 'FAIL');
});

test('host facts are read from this machine', () => {
  const h = readHostFacts();
  assert.ok(h.cores >= 1 && h.memAvailableBytes > 0);
  if (process.platform === 'linux') assert.ok(h.openFilesSoft! > 0 && h.portRange![1] > h.portRange![0]);
});
