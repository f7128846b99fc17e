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

test('MQTT_ENDPOINTS: host:port lists (IPv6 in brackets, scenario lists too); the first is also MQTT_HOST/MQTT_PORT', () => {
  const r = loadConfig({ cwd: dir(), env: {}, flags: { MQTT_ENDPOINTS: ' 10.0.0.5:1883, tb-mqtt-2:1884 ,[::1]:1885' } });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.deepEqual(r.config.mqttEndpoints, [
    { host: '10.0.0.5', port: 1883 },
    { host: 'tb-mqtt-2', port: 1884 },
    { host: '::1', port: 1885 },
  ]);
  assert.equal(r.config.mqttHost, '10.0.0.5');
  assert.equal(r.config.mqttPort, 1883);
  assert.deepEqual(r.warnings, []);
  // unset: no list, MQTT_HOST/MQTT_PORT as before
  const one = loadConfig({ cwd: dir(), env: { MQTT_PORT: '1999' } });
  assert.ok(one.ok);
  assert.deepEqual(one.config.mqttEndpoints, []);
  assert.equal(one.config.mqttPort, 1999);

  const d = dir();
  writeFileSync(join(d, 's.json'), JSON.stringify({ MQTT_ENDPOINTS: ['127.0.0.1:1883', '127.0.0.1:1884'] }));
  const sc = loadConfig({ cwd: d, env: { MQTT_HOST: 'old-host' }, scenarioFile: 's.json' });
  assert.ok(sc.ok, JSON.stringify(!sc.ok && sc.problems));
  assert.deepEqual(
    sc.config.mqttEndpoints.map((e) => e.port),
    [1883, 1884],
  );
  assert.equal(sc.config.mqttHost, '127.0.0.1');
  assert.deepEqual(sc.warnings, ['MQTT_HOST ignored: MQTT_ENDPOINTS lists every MQTT endpoint (the first is 127.0.0.1).']);
});

test('MQTT_ENDPOINTS: a malformed entry, a bad port or a repeated endpoint is a problem naming the key and the entry', () => {
  for (const [value, expected] of [
    ['127.0.0.1', /expected host:port,host:port… .*got 127\.0\.0\.1$/],
    ['127.0.0.1:1883,127.0.0.1:0', /got 127\.0\.0\.1:0$/],
    ['127.0.0.1:70000', /got 127\.0\.0\.1:70000$/],
    ['user:pw@host:1883', /got \*\*\*@host:1883$/],
    ['mqtt://127.0.0.1:1883', /got mqtt:\/\/127\.0\.0\.1:1883$/],
    ['::1:1883', /IPv6 as \[::1\]:1883/],
    ['127.0.0.1:1883,127.0.0.1:1883', /127\.0\.0\.1:1883 is listed twice/],
    [Array.from({ length: 65 }, (_, k) => `127.0.0.1:${2000 + k}`).join(','), /at most 64 endpoints, got 65/],
  ] as const) {
    const r = loadConfig({ cwd: dir(), env: {}, flags: { MQTT_ENDPOINTS: value } });
    assert.equal(r.ok, false, value);
    if (r.ok) continue;
    assert.deepEqual(
      r.problems.map((p) => [p.key, p.from]),
      [['MQTT_ENDPOINTS', 'flag']],
      value,
    );
    assert.match(r.problems[0].expected, expected, value);
    assert.doesNotMatch(JSON.stringify(r.problems), /pw@/, 'credentials are never echoed');
  }
});
