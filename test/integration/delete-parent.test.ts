// `tblab delete` with a parent (cloud) server never half-fails silently: both logins are checked
// before anything is deleted, and a parent that fails part-way yields the real counts on each
// server, an updated devices.csv and a hint naming the TB_PARENT_* keys.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { provision } from '../../src/lab/provision.js';
import { readManifest } from '../../src/lab/fleet-file.js';
import { listFleetOnServer } from '../../src/lab/fleet-server.js';
import type { Emulator } from '../../src/emulator/index.js';
import { labEnv, labConfig, adminClient, sink } from '../helpers/lab-fixtures.js';
import { startEmulator } from '../helpers/emulator.js';
import { tmpDir } from '../helpers/tmp.js';
import { tblab } from '../helpers/tblab-cli.js';
import { labContext } from '../../src/lab/context.js';

/** Edge → cloud sync imitated test-side: each device created on the edge appears on the parent with the same UUID. */
function mirrorCreations(edge: Emulator, parent: Emulator): void {
  edge.events.on('deviceCreated', ({ deviceId, deviceName }) => {
    const reg = parent.store.registry;
    const d = reg.saveDevice({ name: deviceName });
    reg.devices.delete(d.id);
    (d as { id: string }).id = deviceId;
    reg.devices.set(deviceId, d);
  });
}

async function fleetOnBoth(t: TestContext, n: number) {
  const edge = await startEmulator(t);
  const parent = await startEmulator(t, { username: 'cloud@example.com', password: 'cloud-pass' });
  mirrorCreations(edge, parent);
  const dir = tmpDir(t, 'tblab-lab-');
  const env = labEnv(edge, dir, {
    DEVICE_COUNT: String(n),
    TB_PARENT_URL: parent.restUrl,
    TB_PARENT_USERNAME: 'cloud@example.com',
    TB_PARENT_PASSWORD: 'cloud-pass',
    REST_RETRIES: '0',
  });
  await provision(labContext({ stderr: sink().stream }), labConfig(env, dir), { progress: false });
  return { edge, parent, dir, env };
}

test('a wrong parent password is found before anything is deleted; the hint names TB_PARENT_*', { timeout: 120_000 }, async (t) => {
  const { edge, dir, env } = await fleetOnBoth(t, 10);
  const r = await tblab(t, ['delete', '--yes'], { cwd: dir, env: { ...env, TB_PARENT_PASSWORD: 'wrong-pass' } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error \[AUTH_FAILED\]: parent server .*nothing was deleted/);
  assert.match(r.stderr, /hint: .*TB_PARENT_URL.*TB_PARENT_PASSWORD/);
  assert.doesNotMatch(r.stderr, /wrong-pass/);
  assert.equal((await listFleetOnServer(adminClient(t, edge.restUrl), 'sim')).size, 10);
  assert.equal(readManifest(labConfig(env, dir).dataDir).length, 10);
});

test(
  'a parent that dies part-way: real counts per server, devices.csv updated, TB_PARENT_* in the hint',
  { timeout: 120_000 },
  async (t) => {
    const { edge, parent, dir, env } = await fleetOnBoth(t, 10);
    let edgeDeleted = 0;
    edge.events.on('deviceDeleted', () => {
      if (++edgeDeleted === 3) void parent.close();
    });
    const r = await tblab(t, ['delete', '--yes', '--json', '--no-progress'], { cwd: dir, env: { ...env, PROVISION_CONCURRENCY: '1' } });
    assert.notEqual(r.code, 0, r.stderr);
    const counts =
      /(\d+) deleted on edge \S+ \(0 already gone\), (\d+) on the parent \(0 already gone\); parent failed: .*; (\d+) left in devices\.csv/;
    const m = counts.exec(r.stderr);
    assert.ok(m, r.stderr);
    const [onEdge, onParent, left] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const stillOnEdge = await listFleetOnServer(adminClient(t, edge.restUrl), 'sim');
    assert.equal(onEdge, 10 - stillOnEdge.size, 'edge count is what the edge really lost');
    assert.equal(onEdge, 3);
    assert.equal(onParent, 2, 'the parent deleted the first two, then went away');
    const rows = readManifest(labConfig(env, dir).dataDir);
    assert.equal(rows.length, left);
    // devices.csv drops what is gone on both and keeps the one whose parent copy is left, so a re-run finishes it
    assert.equal(left, 10 - onParent);
    for (const name of stillOnEdge.keys())
      assert.ok(
        rows.some((row) => row.name === name),
        name,
      );
    assert.match(r.stderr, /hint: .*TB_PARENT_URL.*re-run `tblab delete --yes`/);
    const json = JSON.parse(r.stdout);
    assert.deepEqual({ deleted: json.error.details.deleted, parent: json.error.details.parent.deleted }, { deleted: 3, parent: 2 });
  },
);
