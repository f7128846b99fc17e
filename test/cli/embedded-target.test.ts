// One target resolver: `run --embedded` and `suite --embedded` talk to the emulator with its own
// login even when .env is made for a real server, and keep their files in one embedded data folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import type { RunReport } from '../../src/report/schema.js';

const title = "run --embedded with a real server's credentials in .env works and writes where suite --embedded writes";
test(title, { timeout: 180_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-embedded-');
  const dotenv = ['TB_URL=https://tb.example.com', 'TB_USERNAME=ops@example.com', 'TB_PASSWORD=secret'];
  dotenv.push('TB_PARENT_URL=https://cloud.example.com');
  writeFileSync(join(cwd, '.env'), dotenv.join('\n') + '\n');
  const env = { DEVICE_COUNT: '5', SHARDS: '1', DASHBOARD: '0', CONNECT_RATE: '0' };
  const embedded = join(cwd, 'data', 'embedded');

  const run = await tblab(t, ['run', '--embedded', '--duration', '5', '--json'], { cwd, env });
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /AUTH_FAILED|ops@example\.com/);
  const summary = JSON.parse(run.stdout) as { report: string; outcome: string; sent: number; acked: number };
  assert.equal(summary.outcome, 'completed');
  assert.ok(summary.sent > 0 && summary.acked === summary.sent, `sent ${summary.sent}, acked ${summary.acked}`);
  assert.equal(summary.report, join(embedded, 'runs', `${JSON.parse(readFileSync(summary.report, 'utf8')).runId}.json`));
  const runReport = JSON.parse(readFileSync(join(embedded, 'runs', 'latest.json'), 'utf8')) as RunReport;
  assert.equal(runReport.metrics.traffic.sent, summary.sent);
  assert.ok(runReport.delivery, 'the delivery check ran against the emulator');
  assert.equal(runReport.delivery.totals.stored, summary.sent, 'every publish stored');
  assert.doesNotMatch(JSON.stringify(runReport), /secret/, 'no password in the report');
  assert.equal(existsSync(join(cwd, 'data', 'runs')), false, "nothing in the real target's runs folder");

  const suite = await tblab(t, ['suite', '--embedded', '--', '--duration', '2'], { cwd, env });
  assert.equal(suite.code, 0, suite.stderr);
  const runs = readdirSync(join(embedded, 'runs')).filter((f) => f !== 'latest.json' && f.endsWith('.json'));
  assert.equal(runs.length, 2, `both runs in ${embedded}/runs: ${runs.join(', ')}`);
  assert.ok(runs.includes(`${runReport.runId}.json`));

  const report = await tblab(t, ['report', runReport.runId, '--json'], { cwd, env });
  assert.equal(report.code, 0, report.stderr);
  assert.equal(JSON.parse(report.stdout).file, join(embedded, 'runs', `${runReport.runId}.json`));
});
