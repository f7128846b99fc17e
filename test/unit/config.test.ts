import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, redactConfig } from '../../src/config/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

const dir = () => tmpDir(fileScope, 'tblab-cfg-');

test('defaults resolve with no .env and an empty environment', () => {
  const r = loadConfig({ cwd: dir(), env: {} });
  assert.ok(r.ok);
  assert.equal(r.config.deviceCount, 100);
  assert.equal(r.config.devicePrefix, 'sim');
  assert.equal(r.config.metricsPort, 5050);
  assert.equal(r.config.mqttHost, '127.0.0.1');
  assert.match(r.config.pidFile, /data\/control\/tblab\.pid$/);
});

test('layers apply in order: .env < environment < scenario < flags', () => {
  const d = dir();
  writeFileSync(join(d, '.env'), 'DEVICE_COUNT=10\nDEVICE_PREFIX=fromfile\nMQTT_PORT=1884\nPUBLISH_INTERVAL_SEC=5\n');
  writeFileSync(
    join(d, 'sc.json'),
    JSON.stringify({ MQTT_PORT: 1885, PUBLISH_INTERVAL_SEC: 2, STAGES: [{ duration: '10s', target: '100%' }] }),
  );
  const r = loadConfig({
    cwd: d,
    env: { DEVICE_COUNT: '20', MQTT_PORT: '1886' },
    scenarioFile: 'sc.json',
    flags: { PUBLISH_INTERVAL_SEC: '0.5' },
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.equal(r.config.devicePrefix, 'fromfile');
  assert.equal(r.config.deviceCount, 20);
  assert.equal(r.config.mqttPort, 1885);
  assert.equal(r.config.publishIntervalSec, 0.5);
  assert.equal(r.config.stages, '10s:100%');
  assert.equal(r.origin.MQTT_PORT, 'scenario');
});

test('every bad value is reported at once, naming key, value, source and expected form', () => {
  const r = loadConfig({
    cwd: dir(),
    env: { DEVICE_COUNT: 'many', MQTT_TLS: 'maybe', TB_URL: 'ftp://x', TB_PASSWORD: 'hunter2', MQTT_QOS: '2' },
  });
  assert.equal(r.ok, false);
  if (r.ok) return;
  const byKey = Object.fromEntries(r.problems.map((p) => [p.key, p]));
  assert.deepEqual(Object.keys(byKey).sort(), ['DEVICE_COUNT', 'MQTT_QOS', 'MQTT_TLS', 'TB_URL']);
  assert.equal(byKey.DEVICE_COUNT.from, 'env');
  assert.match(byKey.DEVICE_COUNT.expected, /whole number/);
  assert.match(byKey.TB_URL.expected, /http\(s\) URL/);
});

test('unknown keys in a scenario file or flags are errors, secrets are masked', () => {
  const d = dir();
  writeFileSync(join(d, 's.json'), JSON.stringify({ DEVCE_COUNT: 3 }));
  const r = loadConfig({ cwd: d, env: {}, scenarioFile: 's.json', flags: { REST_RETRIES: 'x' } });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.ok(r.problems.some((p) => p.key === 'DEVCE_COUNT'));
});

test('redactConfig drops passwords and masks credentials in URLs', () => {
  const r = loadConfig({ cwd: dir(), env: { TB_PASSWORD: 's3cret', HTTP_PROXY: 'http://user:pw@proxy:3128' } });
  assert.ok(r.ok);
  const red = redactConfig(r.config);
  const text = JSON.stringify(red);
  assert.ok(!text.includes('s3cret'));
  assert.ok(!text.includes('pw@'));
  assert.equal(red.httpProxy, 'http://***@proxy:3128');
});

test('source address ranges expand and instance i/N parses', () => {
  const r = loadConfig({ cwd: dir(), env: { SOURCE_ADDRESSES: '127.0.0.2-127.0.0.4,127.0.0.9', INSTANCE: '2/4' } });
  assert.ok(r.ok);
  assert.deepEqual(r.config.sourceAddresses, ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.9']);
  assert.deepEqual(r.config.instance, { index: 2, count: 4 });
  const bad = loadConfig({ cwd: dir(), env: { INSTANCE: '5/4' } });
  assert.equal(bad.ok, false);
});

test('booleans accept 1/0 as numbers too (scenario files), and reject other numbers', () => {
  const d = dir();
  writeFileSync(join(d, 'b.json'), JSON.stringify({ DASHBOARD: 0, MQTT_TLS: 1 }));
  const r = loadConfig({ cwd: d, env: {}, scenarioFile: 'b.json' });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.equal(r.config.dashboard, false);
  assert.equal(r.config.mqttTls, true);
  writeFileSync(join(d, 'c.json'), JSON.stringify({ DASHBOARD: 2 }));
  const bad = loadConfig({ cwd: d, env: {}, scenarioFile: 'c.json' });
  assert.equal(bad.ok, false);
});
