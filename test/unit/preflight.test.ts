import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preflight, connectionPlan, readHostFacts, type HostFacts } from '../../src/lab/preflight.js';
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
  Object.fromEntries(preflight(connectionPlan(cfg(env), h.cores), h).map((c) => [c.name, c.verdict]));

test('a modest fleet passes every pre-flight check', () => {
  assert.deepEqual(verdicts({ DEVICE_COUNT: '10000' }), { 'open files': 'OK', 'ephemeral ports': 'OK', memory: 'OK' });
});

test('more connections than ephemeral ports on one address fails; enough source addresses fix it', () => {
  assert.equal(verdicts({ DEVICE_COUNT: '50000' })['ephemeral ports'], 'FAIL');
  assert.equal(verdicts({ DEVICE_COUNT: '50000', SOURCE_ADDRESSES: '127.0.0.2-127.0.0.11' })['ephemeral ports'], 'OK');
  assert.equal(verdicts({ DEVICE_COUNT: '50000', SOURCE_ADDRESSES: '127.0.0.2-127.0.0.3' })['ephemeral ports'], 'WARN');
});

test('per-process connections above the open-file limit fail and say how to fix it', () => {
  const low = { ...host, openFilesSoft: 1024, openFilesHard: 4096 };
  const lines = preflight(connectionPlan(cfg({ DEVICE_COUNT: '5000' }), 2), low);
  const of = lines.find((l) => l.name === 'open files')!;
  assert.equal(of.verdict, 'FAIL');
  assert.equal(of.code, 'PREFLIGHT_FAILED');
  assert.match(of.message, /ulimit -n 4096|MAX_CLIENTS_PER_PROCESS/);
  // more, smaller shards fit
  assert.equal(verdicts({ DEVICE_COUNT: '5000', MAX_CLIENTS_PER_PROCESS: '900' }, low)['open files'], 'OK');
});

test('memory estimate above what is available fails', () => {
  assert.equal(
    verdicts({ DEVICE_COUNT: '100000', SOURCE_ADDRESSES: '127.0.0.2-127.0.0.30' }, { ...host, memAvailableBytes: 512 * 2 ** 20 }).memory,
    'FAIL',
  );
});

test('host facts are read from this machine', () => {
  const h = readHostFacts();
  assert.ok(h.cores >= 1 && h.memAvailableBytes > 0);
  if (process.platform === 'linux') assert.ok(h.openFilesSoft! > 0 && h.portRange![1] > h.portRange![0]);
});
