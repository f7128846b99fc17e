import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTblab, cleanEnv } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';

test(
  '--keep-dashboard: after the run the dashboard keeps serving the final state until Ctrl+C, and prints how to stop',
  { timeout: 120_000 },
  async (t) => {
    const cwd = tmpDir(t, 'tblab-cli-');
    const env = cleanEnv({ DEVICE_COUNT: '5', SHARDS: '1', METRICS_PORT: '0', PUBLISH_INTERVAL_SEC: '0.5' });
    const run = startTblab(t, ['run', '--embedded', '--duration', '2', '--keep-dashboard'], { cwd, env });
    await run.waitFor(/control: POST .*\n/);
    const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\n/.exec(run.stderr)![1];
    assert.match(
      run.stderr,
      /control: POST http:\/\/127\.0\.0\.1:\d+\/api\/control\/stop with header "Authorization: Bearer \$\(cat \S*control-token\)" \(token file mode 0600/,
    );
    const tokenFile = /\$\(cat (\S*control-token)\)/.exec(run.stderr)![1];
    const token = readFileSync(tokenFile, 'utf8').trim();
    assert.ok(token.length >= 20);
    assert.ok(!run.stderr.includes(token) && !run.stdout.includes(token), 'the control token is not printed');
    await run.waitFor(/keeps showing its final state/);

    const res = await fetch(`${url}/api/metrics`);
    assert.equal(res.status, 200);
    const snap = (await res.json()) as { state: string; traffic: { sent: number; acked: number } };
    assert.equal(snap.state, 'finished');
    assert.ok(snap.traffic.sent > 0);
    assert.equal(snap.traffic.acked, snap.traffic.sent);
    assert.equal(run.child.exitCode, null, 'still running after the run ended');

    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(fetch(`${url}/api/metrics`), 'the dashboard closed on exit');
  },
);

test('the embedded emulator does not outlive a lab that is killed outright (SIGKILL)', { timeout: 120_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-cli-');
  const env = cleanEnv({ DEVICE_COUNT: '3', SHARDS: '1', DASHBOARD: '0' });
  const run = startTblab(t, ['run', '--embedded', '--duration', '0'], { cwd, env });
  await run.waitFor(/emulator: REST (http:\/\/127\.0\.0\.1:\d+)/);
  const rest = /emulator: REST (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stderr)![1];
  assert.equal((await fetch(`${rest}/__emulator/stats?perDevice=0`)).status, 200);
  run.child.kill('SIGKILL');
  await run.done;
  const deadline = Date.now() + 20_000;
  let alive = true;
  while (alive && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    alive = await fetch(`${rest}/__emulator/stats?perDevice=0`).then(
      () => true,
      () => false,
    );
  }
  assert.equal(alive, false, 'the emulator closed after its lab died');
});
