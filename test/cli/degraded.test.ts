// A crashed shard that took part of the fleet with it (issue 20 #7): the run finishes with the
// other shards, its outcome says `degraded` and the CLI exits with the documented code 7.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import { ExitCode } from '../../src/common/errors.js';
import type { RunReport } from '../../src/report/schema.js';
import { testFleet } from '../helpers/engine.js';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { startTblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const skip = hasMosquitto() ? false : 'mosquitto is not installed';

/** The shard processes: the children of the lab's main process (no dashboard, no emulator here). */
const shardPids = (pid: number) =>
  spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);

test('kill -9 of one shard mid-run → the run finishes, outcome degraded, exit 7', { skip, timeout: 120_000 }, async (t) => {
  const { port } = await startMosquitto(t);
  const cwd = tmpDir(t, 'tblab-degraded-');
  writeTokenFile(join(cwd, 'data'), {
    version: 1,
    server: 'http://127.0.0.1:8080',
    prefix: 'sim',
    deviceProfileId: null,
    updatedAt: new Date().toISOString(),
    devices: Object.fromEntries(testFleet(20).map(({ name, ...d }) => [name, d])),
  });
  const env = { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), SHARDS: '2', DASHBOARD: '0', DELIVERY_CHECK: '0' };
  const p = startTblab(t, ['run', '--devices', '20', '--duration', '6', '--json'], { cwd, env });
  await waitFor('two shards', () => shardPids(p.child.pid!).length === 2, 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  process.kill(shardPids(p.child.pid!)[1], 'SIGKILL');
  const { code } = await p.exit;
  assert.equal(code, ExitCode.DEGRADED, p.stderr);
  const out = JSON.parse(p.stdout) as { outcome: string; report: string; problem: { code: string } };
  assert.equal(out.outcome, 'degraded');
  assert.equal(out.problem.code, 'RUN_DEGRADED');
  assert.match(p.stderr, /degraded \[RUN_DEGRADED\]: shard \d \(signal SIGKILL\) crashed and took 10 of 20 devices/);
  const report = JSON.parse(readFileSync(out.report, 'utf8')) as RunReport;
  assert.equal(report.outcome, 'degraded');
  assert.equal(report.problem?.exitCode, ExitCode.DEGRADED);
  assert.equal(report.metrics.shards.filter((s) => s.state === 'crashed').length, 1);
  assert.ok(report.metrics.traffic.sent > 0);
});
