// Small habits of the original lab's users: misspelt .env keys are named with the nearest key,
// the original's plain-array disabled_devices.json pauses devices, `tblab config` shows .env key
// names, and the control token never reaches the console.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { readDisabledDevices } from '../../src/engine/disabled-watch.js';
import { readDisabledFile } from '../../src/lab/devices.js';
import { editDistance, nearest } from '../../src/common/nearest.js';
import { emulatorFleet, startRun, testConfig } from '../helpers/engine.js';
import { startEmulator } from '../helpers/emulator.js';
import { cleanEnv, tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';

test('nearest key: near misses only', () => {
  assert.equal(editDistance('MQTT_QQS', 'MQTT_QOS'), 1);
  assert.equal(editDistance('DEVCIE_COUNT', 'DEVICE_COUNT'), 1, 'a transposition is one edit');
  const keys = ['DEVICE_COUNT', 'MQTT_QOS', 'TB_URL'];
  assert.equal(nearest('DEVICE_COUNTT', keys), 'DEVICE_COUNT');
  assert.equal(nearest('mqtt_qos', keys), 'MQTT_QOS');
  assert.equal(nearest('PATH', keys), null);
  assert.equal(nearest('TB_URL', keys), null, 'an exact key is not a near miss');
});

test(".env keys that look like ours but are not get a warning naming the nearest key; other tools' keys do not", (t) => {
  const dir = tmpDir(t, 'tblab-cli-');
  writeFileSync(join(dir, '.env'), 'DEVICE_COUNTT=20\nMQTT_QQS=1\nCOMPOSE_PROJECT_NAME=lab\nDEVICE_COUNT=7\n');
  const r = loadConfig({ cwd: dir, env: {} });
  assert.ok(r.ok);
  assert.equal(r.config.deviceCount, 7);
  assert.deepEqual(
    r.warnings.filter((w) => w.startsWith('.env key')),
    [
      '.env key DEVICE_COUNTT is not a tblab key and is ignored; did you mean DEVICE_COUNT?',
      '.env key MQTT_QQS is not a tblab key and is ignored; did you mean MQTT_QOS?',
    ],
  );
});

test('tblab config prints .env key names and the typo warning', { timeout: 30_000 }, async (t) => {
  const dir = tmpDir(t, 'tblab-cli-');
  writeFileSync(join(dir, '.env'), 'MQTT_QQS=1\nDEVICE_COUNT=7\n');
  const r = await tblab(t, ['config'], { cwd: dir, env: cleanEnv() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^DEVICE_COUNT = 7$/m);
  assert.match(r.stdout, /^MQTT_QOS = 1$/m);
  assert.doesNotMatch(r.stdout, /^deviceCount /m);
  assert.match(r.stderr, /warning: \.env key MQTT_QQS .*did you mean MQTT_QOS\?/);
  const json = JSON.parse((await tblab(t, ['config', '--json'], { cwd: dir, env: cleanEnv() })).stdout);
  assert.equal(json.deviceCount, 7, '--json keeps the property names');
});

test("disabled_devices.json: the original's plain array of names is read by the run and by `devices`", { timeout: 120_000 }, async (t) => {
  const dir = tmpDir(t, 'tblab-cli-');
  const file = join(dir, 'disabled_devices.json');
  writeFileSync(file, JSON.stringify(['sim-002', 'sim-003']));
  assert.deepEqual(readDisabledDevices(file), ['sim-002', 'sim-003']);
  assert.deepEqual(readDisabledFile(file).devices, ['sim-002', 'sim-003']);
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(['sim-001', 7]));
  assert.throws(() => readDisabledDevices(join(dir, 'bad.json')), /\["name",…\]/);

  const emu = await startEmulator(t);
  const fleet = await emulatorFleet(emu.restUrl, 4);
  const config = testConfig(t, {
    MQTT_PORT: emu.mqttPort,
    TB_URL: emu.restUrl,
    DURATION_SEC: 2,
    PUBLISH_INTERVAL_SEC: 0.5,
    DISABLED_DEVICES_FILE: file,
    SHARDS: 1,
  });
  const r = await startRun(t, { config, fleet, writeFiles: false }).done;
  for (const name of ['sim-002', 'sim-003']) assert.equal(r.devices[name].sent, 0, `${name} is paused`);
  for (const name of ['sim-001', 'sim-004']) assert.ok(r.devices[name].sent > 0, `${name} runs`);
  assert.equal(emu.stats().perDevice['sim-002']?.messages ?? 0, 0);
});
