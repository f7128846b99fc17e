// Re-provisioning brings reused devices in line with the configuration (label, type/profile), or
// with --no-update reports the drift; tokens.json and devices.csv record what the server has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readManifest, readTokenFile } from '../../src/lab/fleet-file.js';
import { listFleetOnServer } from '../../src/lab/fleet-server.js';
import type { TbDevice } from '../../src/thingsboard/types.js';
import type { TbClient } from '../../src/thingsboard/client.js';
import { labEnv, labConfig, adminClient } from '../helpers/lab-fixtures.js';
import { startEmulator } from '../helpers/emulator.js';
import { tmpDir } from '../helpers/tmp.js';
import { tblab } from '../helpers/tblab-cli.js';

async function manifestMatchesServer(c: TbClient, dataDir: string): Promise<Map<string, TbDevice>> {
  const server = await listFleetOnServer(c, 'sim');
  const rows = readManifest(dataDir);
  assert.equal(rows.length, server.size);
  for (const r of rows) {
    const d = server.get(r.name)!;
    const onServer = { label: d.label, type: d.type, profileId: d.deviceProfileId?.id ?? null };
    assert.deepEqual({ label: r.label, type: r.type, profileId: r.profileId }, onServer, r.name);
  }
  return server;
}

test(
  'reused devices: --no-update reports drift; a plain re-run updates them; devices.csv follows the server',
  { timeout: 120_000 },
  async (t) => {
    const e = await startEmulator(t);
    const dir = tmpDir(t, 'tblab-lab-');
    const env = labEnv(e, dir, { DEVICE_COUNT: '20' });
    const dataDir = labConfig(env, dir).dataDir;
    const first = await tblab(t, ['provision', '--no-progress', '--json'], { cwd: dir, env: env });
    assert.equal(first.code, 0, first.stderr);
    const c = adminClient(t, e.restUrl);
    const before = await listFleetOnServer(c, 'sim');
    const defaultProfile = before.get('sim-001')!.deviceProfileId!.id;
    // edited by hand on the server: a label, and a device moved to another profile
    await c.post('/api/device', { ...before.get('sim-003')!, label: 'hand-edited' });
    await c.post('/api/device', { ...before.get('sim-005')!, deviceProfileId: null, type: 'thermostat' });

    const keep = await tblab(t, ['provision', '--no-progress', '--no-update', '--json'], { cwd: dir, env: env });
    assert.equal(keep.code, 0, keep.stderr);
    const k = JSON.parse(keep.stdout);
    assert.equal(k.updated, 0);
    assert.deepEqual(Object.keys(k.drift).sort(), ['sim-003', 'sim-005']);
    assert.deepEqual(k.drift['sim-003'], { label: ['hand-edited', 'tb-load-lab'] });
    assert.equal(k.drift['sim-005'].deviceProfileId[1], defaultProfile);
    assert.match(keep.stderr, /warning: 2 reused device\(s\) differ .*sim-003 label "hand-edited" \(configured "tb-load-lab"\)/);
    const kept = await manifestMatchesServer(c, dataDir);
    assert.equal(kept.get('sim-003')!.label, 'hand-edited');
    assert.equal(kept.get('sim-005')!.type, 'thermostat');

    const fix = await tblab(t, ['provision', '--no-progress', '--json'], { cwd: dir, env: env });
    assert.equal(fix.code, 0, fix.stderr);
    const f = JSON.parse(fix.stdout);
    assert.equal(f.updated, 2);
    assert.deepEqual(f.drift, {});
    const after = await manifestMatchesServer(c, dataDir);
    for (const d of after.values()) {
      assert.equal(d.label, 'tb-load-lab', d.name);
      assert.equal(d.deviceProfileId!.id, defaultProfile, d.name);
    }
    // in line now: a further re-run changes nothing and stays cheap
    const again = JSON.parse((await tblab(t, ['provision', '--no-progress', '--json'], { cwd: dir, env: env })).stdout);
    assert.equal(again.updated, 0);
    assert.ok(again.requests <= 3, `${again.requests} requests`);
  },
);

test('a new DEVICE_TYPE moves the reused fleet to that profile; tokens.json records its id', { timeout: 120_000 }, async (t) => {
  const e = await startEmulator(t);
  const dir = tmpDir(t, 'tblab-lab-');
  const env = labEnv(e, dir, { DEVICE_COUNT: '12' });
  assert.equal((await tblab(t, ['provision', '--no-progress'], { cwd: dir, env: env })).code, 0);
  const r = await tblab(t, ['provision', '--no-progress', '--json'], {
    cwd: dir,
    env: { ...env, DEVICE_TYPE: 'sensor', DEVICE_LABEL: 'floor-2' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).updated, 12);
  const c = adminClient(t, e.restUrl);
  const server = await manifestMatchesServer(c, labConfig(env, dir).dataDir);
  const ids = new Set([...server.values()].map((d) => d.deviceProfileId!.id));
  assert.equal(ids.size, 1);
  for (const d of server.values()) assert.deepEqual([d.type, d.label], ['sensor', 'floor-2'], d.name);
  assert.equal(readTokenFile(labConfig(env, dir).dataDir)!.deviceProfileId, [...ids][0]);
});
