// The target resolver's embedded configuration: the emulator's URLs and login replace a real
// server's, the whole fleet runs, and every file goes to the embedded data folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpDir } from '../helpers/tmp.js';
import { join } from 'node:path';
import { loadConfigOrThrow } from '../../src/config/index.js';
import { embeddedConfig, resolveTarget } from '../../src/lab/target.js';
import { labContext } from '../../src/lab/context.js';
import { reportPathsFor } from '../../src/common/data-dirs.js';

const emu = { restUrl: 'http://127.0.0.1:40001', mqttHost: '127.0.0.1', mqttPort: 40002 };

test('embedded: emulator URLs and login, no parent server, no instance slice, files under DATA_DIR/embedded', (t) => {
  const dir = tmpDir(t, 'tblab-target-');
  const real = loadConfigOrThrow({
    cwd: dir,
    env: {},
    envFile: false,
    flags: {
      DATA_DIR: dir,
      TB_URL: 'https://tb.example.com',
      TB_USERNAME: 'ops@example.com',
      TB_PASSWORD: 'secret',
      TB_PARENT_URL: 'https://cloud.example.com',
      MQTT_TLS: '1',
      INSTANCE: '2/3',
    },
  }).config;
  const c = embeddedConfig(real, emu);
  assert.deepEqual(
    [c.tbUrl, c.mqttHost, c.mqttPort, c.mqttTls, c.tbUsername, c.tbPassword, c.tbParentUrl, c.instance],
    [emu.restUrl, '127.0.0.1', 40002, false, 'tenant@thingsboard.org', 'tenant', undefined, undefined],
  );
  assert.equal(c.dataDir, join(dir, 'embedded'));
  assert.equal(c.disabledDevicesFile, join(dir, 'embedded', 'control', 'disabled_devices.json'));
  assert.equal(c.pidFile, real.pidFile, 'the pid file stays where `tblab stop` looks');
  assert.deepEqual(reportPathsFor(dir, 'latest.json'), [join(dir, 'runs', 'latest.json'), join(c.dataDir, 'runs', 'latest.json')]);
  const flags = { DATA_DIR: dir, DISABLED_DEVICES_FILE: join(dir, 'mine.json') };
  const custom = loadConfigOrThrow({ cwd: dir, env: {}, envFile: false, flags }).config;
  assert.equal(embeddedConfig(custom, emu).disabledDevicesFile, join(dir, 'mine.json'), 'an explicit paused list is kept');
});

test('real: the configuration as it is, with the instance from the environment', async (t) => {
  const dir = tmpDir(t, 'tblab-target-');
  const real = loadConfigOrThrow({ cwd: dir, env: {}, envFile: false, flags: { DATA_DIR: dir, INSTANCE_COUNT: 4 } }).config;
  const lines: string[] = [];
  const stderr = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream;
  const ctx = labContext({ env: { JOB_COMPLETION_INDEX: '2' }, stderr });
  const target = await resolveTarget(ctx, real, { embedded: false, label: 'suite: ' });
  assert.equal(target.kind, 'real');
  assert.deepEqual(target.config.instance, { index: 3, count: 4 });
  assert.equal(target.config.dataDir, dir);
  assert.equal(target.emulatorUrl, null);
  assert.match(lines.join(''), /^suite: instance 3\/4/);
  await target.close();
});
