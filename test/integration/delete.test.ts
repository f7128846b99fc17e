import { test } from 'node:test';
import assert from 'node:assert/strict';
import { provision } from '../../src/lab/provision.js';
import { deleteFleet } from '../../src/lab/delete.js';
import { readManifest, readTokenFile } from '../../src/lab/fleet-file.js';
import { listFleetOnServer } from '../../src/lab/fleet-server.js';
import type { Emulator } from '../../src/emulator/index.js';
import { type LabError } from '../../src/common/errors.js';
import { labEnv, labConfig, adminClient, sink } from '../helpers/lab-fixtures.js';
import { startEmulator } from '../helpers/emulator.js';
import { tmpDir } from '../helpers/tmp.js';
import { tblab } from '../helpers/tblab-cli.js';
import { labContext } from '../../src/lab/context.js';

/**
 * Imitates Edge → cloud sync (docs/thingsboard-behaviour.md#edge-and-the-parent-server): each device created on the edge appears on
 * the parent with the same UUID. Test-side only: the emulator has no Edge link.
 */
function mirrorCreations(edge: Emulator, parent: Emulator): void {
  edge.events.on('deviceCreated', ({ deviceId, deviceName }) => {
    const reg = parent.store.registry;
    const d = reg.saveDevice({ name: deviceName });
    reg.devices.delete(d.id);
    (d as { id: string }).id = deviceId;
    reg.devices.set(deviceId, d);
  });
}

test(
  'delete mirrors each deletion to the parent server (404 there = done) and empties the fleet files',
  { timeout: 120_000 },
  async (t) => {
    const edge = await startEmulator(t);
    const parent = await startEmulator(t, { username: 'cloud@example.com', password: 'cloud-pass' });
    mirrorCreations(edge, parent);
    const dir = tmpDir(t);
    const env = labEnv(edge, dir, {
      DEVICE_COUNT: '30',
      TB_PARENT_URL: parent.restUrl,
      TB_PARENT_USERNAME: 'cloud@example.com',
      TB_PARENT_PASSWORD: 'cloud-pass',
    });
    const cfg = labConfig(env, dir);
    await provision(labContext({ stderr: sink().stream }), cfg, { progress: false });
    const edgeClient = adminClient(t, edge.restUrl);
    const parentClient = new (await import('../../src/thingsboard/client.js')).TbClient({
      baseUrl: parent.restUrl,
      username: 'cloud@example.com',
      password: 'cloud-pass',
      timeoutMs: 10_000,
      retries: 2,
      connections: 4,
    });
    t.after(() => parentClient.close());
    const onParent = await listFleetOnServer(parentClient, 'sim');
    assert.equal(onParent.size, 30);
    assert.equal(onParent.get('sim-007')!.id.id, readTokenFile(cfg.dataDir)!.devices['sim-007'].id, 'same UUID on both servers');
    // the parent already lost one (a ≥ 4.3 server deletes it itself)
    await parentClient.delete(`/api/device/${onParent.get('sim-001')!.id.id}`);

    // no --yes: refused, nothing deleted
    await assert.rejects(
      deleteFleet(labContext({ stderr: sink().stream }), cfg, { progress: false }),
      (e: LabError) => e.code === 'CONFIRMATION_REQUIRED' && /30 device\(s\).*parent server/.test(e.message),
    );
    const cli = await tblab(t, ['delete'], { cwd: dir, env });
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /CONFIRMATION_REQUIRED/);
    const dry = await tblab(t, ['delete', '--dry-run'], { cwd: dir, env });
    assert.equal(dry.code, 0);
    assert.equal(dry.stderr.split('\n').filter((l) => l.startsWith('would delete sim-')).length, 30);
    assert.equal((await listFleetOnServer(edgeClient, 'sim')).size, 30);

    const s = await deleteFleet(labContext({ stderr: sink().stream }), cfg, { yes: true, progress: false });
    assert.equal(s.deleted, 30);
    assert.deepEqual(s.parent, { server: parent.restUrl, deleted: 29, alreadyGone: 1 });
    assert.equal((await listFleetOnServer(edgeClient, 'sim')).size, 0);
    assert.equal((await listFleetOnServer(parentClient, 'sim')).size, 0);
    assert.equal(readManifest(cfg.dataDir).length, 0);
    assert.deepEqual(readTokenFile(cfg.dataDir)!.devices, {});
  },
);

test(
  'delete --prefix removes every <prefix>-N device of the tenant, manifest or not, and leaves others',
  { timeout: 120_000 },
  async (t) => {
    const e = await startEmulator(t);
    const dir = tmpDir(t);
    const c = adminClient(t, e.restUrl);
    const keep = labConfig(labEnv(e, dir, { DEVICE_COUNT: '12', DEVICE_PREFIX: 'keep' }), dir);
    await provision(labContext({ stderr: sink().stream }), keep, { progress: false });
    for (let i = 1; i <= 5; i++) await c.post('/api/device', { name: `gone-${i}` });
    await c.post('/api/device', { name: 'gone-gateway' });
    const r = await tblab(t, ['delete', '--prefix', 'gone', '--yes', '--json'], {
      cwd: dir,
      env: labEnv(e, dir, { DEVICE_PREFIX: 'keep' }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).deleted, 5);
    assert.equal((await listFleetOnServer(c, 'gone')).size, 0);
    assert.equal((await listFleetOnServer(c, 'keep')).size, 12);
    assert.equal(e.store.registry.byName.has('gone-gateway'), true, 'only <prefix>-<digits> names are deleted');
    assert.equal(readManifest(labConfig(labEnv(e, dir), dir).dataDir).length, 12, 'the manifest of the other fleet is untouched');
  },
);
