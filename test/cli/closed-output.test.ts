// `tblab run … | head`: a reader that closes stdout and stderr early (EPIPE on every later write)
// must not end the run: it goes on to its end, writes its report and removes its pid file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import type { RunReport } from '../../src/report/schema.js';

const title = 'a run whose stdout and stderr are closed early finishes, writes its report and removes its pid file';
test(title, { timeout: 180_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-epipe-');
  const env = { DEVICE_COUNT: '6', SHARDS: '2', DASHBOARD: '0', CONNECT_RATE: '0', PUBLISH_INTERVAL_SEC: '0.5' };
  const p = startTblab(t, ['run', '--embedded', '--duration', '6', '--json'], { cwd, env });
  const pidFile = join(cwd, 'data', 'control', 'tblab.pid');
  await waitFor('the run to start (pid file)', () => existsSync(pidFile), 90_000);
  // like `| head` having read its lines: both pipes closed while the run goes on writing to them
  p.child.stdout!.destroy();
  p.child.stderr!.destroy();
  const exit = await p.exit;
  assert.deepEqual(exit, { code: 0, signal: null }, 'the run ended on its own with exit code 0');
  assert.equal(existsSync(pidFile), false, 'pid file removed');
  const report = JSON.parse(readFileSync(join(cwd, 'data', 'embedded', 'runs', 'latest.json'), 'utf8')) as RunReport;
  assert.equal(report.outcome, 'completed');
  assert.equal(report.endReason, 'duration reached');
  assert.ok(report.metrics.traffic.sent > 0 && report.metrics.traffic.acked === report.metrics.traffic.sent);
  assert.ok(
    report.metrics.shards.every((s) => s.state === 'done'),
    JSON.stringify(report.metrics.shards),
  );
});
