import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { provision } from '../../src/lab/provision.js';
import { controlDevices } from '../../src/lab/devices.js';
import { readTokenFile } from '../../src/lab/fleet-file.js';
import type { TbClient } from '../../src/thingsboard/client.js';
import { labEnv, labConfig, adminClient, sink } from '../helpers/lab-fixtures.js';
import { startEmulator } from '../helpers/emulator.js';
import { tmpDir } from '../helpers/tmp.js';
import { tblab } from '../helpers/tblab-cli.js';
import { labContext } from '../../src/lab/context.js';

async function manualActive(c: TbClient, id: string): Promise<unknown> {
  const a = await c.get<{ key: string; value: unknown }[]>(`/api/plugins/telemetry/DEVICE/${id}/values/attributes/SERVER_SCOPE`, {
    keys: 'manual_active',
  });
  return a.find((x) => x.key === 'manual_active')?.value;
}

test('deactivate / activate round trip; --dry-run changes nothing', { timeout: 120_000 }, async (t) => {
  const e = await startEmulator(t);
  const dir = tmpDir(t);
  const env = labEnv(e, dir, { DEVICE_COUNT: '10' });
  const cfg = labConfig(env, dir);
  await provision(labContext({ stderr: sink().stream }), cfg, { progress: false });
  const ids = readTokenFile(cfg.dataDir)!.devices;
  const c = adminClient(t, e.restUrl);

  // dry run through the CLI: prints exactly the changes, writes nothing
  const dry = await tblab(t, ['devices', 'deactivate', '--devices', 'sim-001,sim-002', '--dry-run'], { cwd: dir, env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(
    dry.stderr.split('\n').filter((l) => l.startsWith('would')),
    ['would pause sim-001', 'would pause sim-002'],
  );
  assert.match(dry.stderr, /nothing was written/);
  assert.ok(!existsSync(cfg.disabledDevicesFile), 'no paused list was written');
  assert.equal(await manualActive(c, ids['sim-001'].id), undefined, 'no attribute was written');

  const off = await controlDevices(labContext(), cfg, { action: 'deactivate', devices: ['sim-001', 'sim-002'] });
  assert.deepEqual(
    off.changes.map((x) => [x.name, x.from, x.to]),
    [
      ['sim-001', 'active', 'paused'],
      ['sim-002', 'active', 'paused'],
    ],
  );
  const file = JSON.parse(readFileSync(cfg.disabledDevicesFile, 'utf8'));
  assert.equal(file.version, 1);
  assert.deepEqual(file.devices, ['sim-001', 'sim-002']);
  assert.equal(await manualActive(c, ids['sim-001'].id), false);
  assert.equal(await manualActive(c, ids['sim-003'].id), undefined, 'untouched devices keep no attribute');

  // deactivating again changes nothing
  assert.equal((await controlDevices(labContext(), cfg, { action: 'deactivate', devices: ['sim-001'] })).changes.length, 0);

  const before = readFileSync(cfg.disabledDevicesFile, 'utf8');
  const mtime = statSync(cfg.disabledDevicesFile).mtimeMs;
  const dryOn = await controlDevices(labContext(), cfg, { action: 'activate', all: true, dryRun: true });
  assert.deepEqual(
    dryOn.changes.map((x) => x.name),
    ['sim-001', 'sim-002'],
  );
  assert.equal(dryOn.unchanged, 8);
  assert.equal(readFileSync(cfg.disabledDevicesFile, 'utf8'), before);
  assert.equal(statSync(cfg.disabledDevicesFile).mtimeMs, mtime);
  assert.equal(await manualActive(c, ids['sim-002'].id), false, 'the dry run wrote no attribute');

  const on = await controlDevices(labContext(), cfg, { action: 'activate', all: true });
  assert.equal(on.changes.length, 2);
  assert.deepEqual(JSON.parse(readFileSync(cfg.disabledDevicesFile, 'utf8')).devices, []);
  assert.equal(await manualActive(c, ids['sim-001'].id), true);
  assert.equal(await manualActive(c, ids['sim-002'].id), true);

  const flipped = await controlDevices(labContext(), cfg, { action: 'toggle', prefix: 'sim' });
  assert.equal(flipped.changes.length, 10);
  assert.equal(JSON.parse(readFileSync(cfg.disabledDevicesFile, 'utf8')).devices.length, 10);
  assert.equal(await manualActive(c, ids['sim-010'].id), false);
});

test('devices: unknown names and a missing selection are clear errors', { timeout: 60_000 }, async (t) => {
  const e = await startEmulator(t);
  const dir = tmpDir(t);
  const env = labEnv(e, dir);
  const none = await tblab(t, ['devices', 'activate'], { cwd: dir, env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--all, --devices a,b or --prefix/);
  const unknown = await tblab(t, ['devices', 'deactivate', '--devices', 'nope-1'], { cwd: dir, env });
  assert.equal(unknown.code, 4);
  assert.match(unknown.stderr, /No device named "nope-1"/);
});
