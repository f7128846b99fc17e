import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readFileSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { provision } from '../../src/lab/provision.js';
import { readTokenFile, readManifest, tokensPath } from '../../src/lab/fleet-file.js';
import { listFleetOnServer } from '../../src/lab/fleet-server.js';
import { getCredentials } from '../../src/thingsboard/devices.js';
import { runPool } from '../../src/lab/pool.js';
import type { TbClient } from '../../src/thingsboard/client.js';
import type { TokenFile } from '../../src/common/fleet.js';
import { labEnv, labConfig, adminClient, sink } from '../helpers/lab-fixtures.js';
import { startEmulator } from '../helpers/emulator.js';
import { tmpDir } from '../helpers/tmp.js';
import { tblab, startTblab } from '../helpers/tblab-cli.js';
import { labContext } from '../../src/lab/context.js';

/** Every token-file entry is a device on the server with exactly these credentials. */
async function assertTokensMatchServer(c: TbClient, tf: TokenFile): Promise<void> {
  const entries = Object.entries(tf.devices);
  await runPool(entries.length, 16, async (i) => {
    const [name, d] = entries[i];
    const creds = await getCredentials(c, d.id);
    assert.equal(d.credentials.type, 'ACCESS_TOKEN', name);
    assert.equal(creds.credentialsId, (d.credentials as { token: string }).token, `token of ${name}`);
  });
}

test(
  '1,000 devices are provisioned with attributes, tokens.json (0600) and devices.csv; a re-run creates none',
  { timeout: 180_000 },
  async (t) => {
    const e = await startEmulator(t);
    const dir = tmpDir(t);
    const cfg = labConfig(labEnv(e, dir, { DEVICE_COUNT: '1000' }), dir);
    const out = sink();

    const first = await provision(labContext({ stderr: out.stream }), cfg, { progress: false });
    assert.equal(first.created, 1000);
    assert.equal(first.reused, 0);
    const c = adminClient(t, e.restUrl);
    const onServer = await listFleetOnServer(c, 'sim');
    assert.equal(onServer.size, 1000);
    assert.ok(onServer.has('sim-001') && onServer.has('sim-1000'));
    assert.equal(onServer.get('sim-001')!.label, 'tb-load-lab');

    const tf = readTokenFile(cfg.dataDir)!;
    assert.equal(statSync(tokensPath(cfg.dataDir)).mode & 0o777, 0o600);
    assert.equal(Object.keys(tf.devices).length, 1000);
    assert.equal(tf.devices['sim-042'].index, 42);
    assert.equal(tf.devices['sim-042'].id, onServer.get('sim-042')!.id.id);
    assert.equal(tf.deviceProfileId, onServer.get('sim-001')!.deviceProfileId!.id);
    await assertTokensMatchServer(c, tf);

    const rows = readManifest(cfg.dataDir);
    assert.equal(rows.length, 1000);
    assert.deepEqual(
      rows.map((r) => r.index),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    assert.ok(
      !readFileSync(tokensPath(cfg.dataDir).replace('tokens.json', 'devices.csv'), 'utf8').includes(
        (tf.devices['sim-001'].credentials as { token: string }).token,
      ),
      'no token in the manifest',
    );

    const attrs = await c.get<{ key: string; value: unknown }[]>(
      `/api/plugins/telemetry/DEVICE/${tf.devices['sim-250'].id}/values/attributes/SERVER_SCOPE`,
      { keys: 'batch,group,index' },
    );
    assert.deepEqual(Object.fromEntries(attrs.map((a) => [a.key, a.value])), { batch: 3, group: 'sim', index: 250 });

    const second = await provision(labContext({ stderr: out.stream }), cfg, { progress: false });
    assert.equal(second.created, 0);
    assert.equal(second.reused, 1000);
    assert.ok(second.requests <= 3, `a re-run only logs in, reads the profile and lists (${second.requests} requests)`);
    assert.equal((await listFleetOnServer(c, 'sim')).size, 1000);
    assert.deepEqual(readTokenFile(cfg.dataDir)!.devices, tf.devices);
  },
);

test('provisioning killed half-way (SIGKILL) completes on re-run with no duplicates', { timeout: 180_000 }, async (t) => {
  // REST latency makes the run long enough to kill it in the middle
  const e = await startEmulator(t, { faults: { restLatencyMs: 20 } });
  const dir = tmpDir(t);
  const env = labEnv(e, dir, { DEVICE_COUNT: '600', PROVISION_CONCURRENCY: '8' });
  const cfg = labConfig(env, dir);
  let seenAtKill = 0;
  const cli = startTblab(t, ['provision', '--no-progress'], { cwd: dir, env });
  void (async () => {
    for (;;) {
      await sleep(50);
      try {
        const n = existsSync(tokensPath(cfg.dataDir)) ? Object.keys(readTokenFile(cfg.dataDir)!.devices).length : 0;
        if (n >= 100) {
          seenAtKill = n;
          cli.child.kill('SIGKILL');
          return;
        }
      } catch {
        /* the file is replaced atomically; a read never sees half of it, but retry anyway */
      }
    }
  })();
  const r = await cli.done;
  assert.equal(r.signal, 'SIGKILL', `the CLI was killed mid-way (stderr: ${r.stderr})`);
  const c = adminClient(t, e.restUrl);
  const created = (await listFleetOnServer(c, 'sim')).size;
  assert.ok(created >= seenAtKill && created < 600, `killed with ${created} of 600 devices on the server`);

  const s = await provision(labContext({ stderr: sink().stream }), cfg, { progress: false });
  assert.equal(s.created + s.reused, 600);
  assert.equal(s.created, 600 - created, 'only the missing devices are created');
  const onServer = await listFleetOnServer(c, 'sim');
  assert.equal(onServer.size, 600);
  assert.equal(e.store.registry.devices.size, 600, 'no other devices exist: nothing duplicated');
  const tf = readTokenFile(cfg.dataDir)!;
  assert.equal(Object.keys(tf.devices).length, 600);
  await assertTokensMatchServer(c, tf);
  assert.equal(readManifest(cfg.dataDir).length, 600);
});

test('--prune deletes devices beyond the count; --rotate-tokens replaces every token', { timeout: 120_000 }, async (t) => {
  const e = await startEmulator(t);
  const dir = tmpDir(t);
  const c = adminClient(t, e.restUrl);
  await provision(labContext({ stderr: sink().stream }), labConfig(labEnv(e, dir, { DEVICE_COUNT: '20' }), dir), { progress: false });
  const cfg15 = labConfig(labEnv(e, dir, { DEVICE_COUNT: '15' }), dir);

  const kept = await provision(labContext({ stderr: sink().stream }), cfg15, { progress: false });
  assert.deepEqual(kept.extra, ['sim-016', 'sim-017', 'sim-018', 'sim-019', 'sim-020']);
  assert.equal(readManifest(cfg15.dataDir).length, 20, 'devices outside the fleet stay in the manifest');
  assert.equal(Object.keys(readTokenFile(cfg15.dataDir)!.devices).length, 15);

  const pruned = await provision(labContext({ stderr: sink().stream }), cfg15, { progress: false, prune: true });
  assert.equal(pruned.pruned, 5);
  assert.equal((await listFleetOnServer(c, 'sim')).size, 15);
  assert.equal(readManifest(cfg15.dataDir).length, 15);

  const before = readTokenFile(cfg15.dataDir)!;
  const rotated = await provision(labContext({ stderr: sink().stream }), cfg15, { progress: false, rotateTokens: true });
  assert.equal(rotated.rotated, 15);
  const after = readTokenFile(cfg15.dataDir)!;
  for (const [name, d] of Object.entries(after.devices)) {
    assert.notDeepEqual(d.credentials, before.devices[name].credentials, name);
    assert.equal(d.id, before.devices[name].id);
  }
  await assertTokensMatchServer(c, after);
});

test('`provision --instance 2/3 --json` provisions only its slice', { timeout: 60_000 }, async (t) => {
  const e = await startEmulator(t);
  const dir = tmpDir(t);
  const r = await tblab(t, ['provision', '--count', '30', '--prefix', 'edge', '--instance', '2/3', '--json'], {
    cwd: dir,
    env: labEnv(e, dir),
  });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.slice, { start: 10, end: 20 });
  assert.equal(s.created, 10);
  const names = [...(await listFleetOnServer(adminClient(t, e.restUrl), 'edge')).keys()].sort();
  assert.deepEqual(
    names,
    Array.from({ length: 10 }, (_, i) => `edge-0${11 + i}`),
  );
});
