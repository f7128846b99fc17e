// The Python lab's command lines work here: its container line (`tb-load-lab --deactivate-after
// --duration 120 --device-count 20`, the image's entry point being `tblab suite`), run flags given
// to `suite` directly, and a wrong command or flag answered with the nearest known one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tblab, cleanEnv } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import type { RunReport } from '../../src/report/schema.js';

const latest = (dataDir: string): RunReport => JSON.parse(readFileSync(join(dataDir, 'runs', 'latest.json'), 'utf8'));

const title1 = "the original's container line runs 20 devices for 8 s, pauses them after, and prints the summary on stdout";
test(title1, { timeout: 180_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-orig-');
  const env = cleanEnv({ SHARDS: '1', METRICS_PORT: '0' });
  const r = await tblab(t, ['suite', '--embedded', '--deactivate-after', '--duration', '8', '--device-count', '20'], { cwd, env });
  assert.equal(r.code, 0, r.stderr);
  const dataDir = join(cwd, 'data', 'embedded');
  const report = latest(dataDir);
  assert.equal(report.outcome, 'completed');
  assert.equal(report.endReason, 'duration reached');
  assert.equal(report.metrics.connections.configured, 20);
  assert.equal(report.metrics.connections.peakConnected, 20);
  assert.ok(report.durationSec >= 8 && report.durationSec < 20, `ran ${report.durationSec} s`);
  assert.equal(Object.keys(report.devices).length, 20);
  const paused = JSON.parse(readFileSync(join(dataDir, 'control', 'disabled_devices.json'), 'utf8')).devices as string[];
  assert.equal(paused.length, 20, 'deactivated after the run');
  // the summary is the result (stdout, like `tblab report`); progress stays on stderr
  assert.match(r.stdout, new RegExp(`^Run ${report.runId}: completed \\(duration reached\\)`));
  assert.match(r.stdout, /Connections\n/);
  assert.doesNotMatch(r.stderr, new RegExp(`Run ${report.runId}: completed`));
  assert.match(r.stderr, /suite: deactivated the fleet \(20 paused/);
});

const title2 = "run flags before and after -- add up (after -- wins); the Python lab's --skip-provision and --disable-dashboard work";
test(title2, { timeout: 180_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-orig-');
  const env = cleanEnv({ SHARDS: '1', METRICS_PORT: '0' });
  const before = ['--embedded', '--json', '--interval', '0.5', '--devices', '3', '--disable-dashboard'];
  const args = ['suite', ...before, '--', '--duration', '2', '--devices', '4'];
  const r = await tblab(t, args, { cwd, env });
  assert.equal(r.code, 0, r.stderr);
  const report = latest(join(cwd, 'data', 'embedded'));
  assert.equal(report.metrics.connections.configured, 4, 'after -- wins');
  assert.equal(report.metrics.target.publishIntervalSec, 0.5, 'the flag before -- is used');
  assert.doesNotMatch(r.stderr, /dashboard: http/, 'no dashboard');
  assert.equal(JSON.parse(r.stdout).runId, report.runId, '--json: the summary as JSON on stdout, nothing else');
  // --skip-provision = --provision never: an empty data folder has no fleet to run
  const none = await tblab(t, ['suite', '--skip-provision', '--duration', '1'], { cwd: tmpDir(t, 'tblab-orig-'), env });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /--provision never, but no tokens.json yet/);
});

test("an unknown command or flag names the nearest known one; the original's flags without an equivalent say what to use", async (t) => {
  const cwd = tmpDir(t, 'tblab-orig-');
  const cases: Array<[string[], RegExp]> = [
    [['activate', '--all'], /unknown command 'activate'; did you mean `tblab devices activate`\?/],
    [['deactivate'], /did you mean `tblab devices deactivate`\?/],
    [['merge'], /did you mean `tblab report merge`\?/],
    [['sutie'], /did you mean `tblab suite`\?/],
    [['suite', '--duraton', '5'], /unknown option '--duraton'\s+\(Did you mean --duration\?\)/],
    [['run', '--intervall', '5'], /Did you mean --interval\?/],
    [['suite', '--ramp-percentages', '25', '50'], /--ramp-percentages is the Python lab's flag: ramps are --stages here/],
    [['suite', '--', '--log-dir', 'x'], /--log-dir is the Python lab's flag: logs go to <DATA_DIR>\/logs/],
    [['suite', '--devices', '3', '--device-count', '4'], /'--device-count <n>' cannot be used with option '--devices <n>'/],
  ];
  for (const [args, re] of cases) {
    const r = await tblab(t, args, { cwd, env: cleanEnv() });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const help = await tblab(t, ['suite', '--help'], { cwd, env: cleanEnv() });
  assert.match(help.stdout, /--duration <sec>/, 'suite --help lists the run flags');
  assert.match(help.stdout, /--device-count/, "and the Python lab's spellings");
});
