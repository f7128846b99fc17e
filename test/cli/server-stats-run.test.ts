// ThingsBoard's own statistics through the real `tblab run` path (emulator with 5 s stats windows):
// a processing delay past the pack timeout → `rule-engine` citing queue timeouts; no faults → `none`;
// the tenant user cannot read system info, and the run says so instead of failing. `tblab report`
// prints the verdict, its evidence and what was not visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { startEmulator } from '../helpers/emulator.js';
import type { RunReport } from '../../src/report/schema.js';

const RUN = { DEVICE_COUNT: '5', SHARDS: '1', DASHBOARD: '0', CONNECT_RATE: '0', DURATION_SEC: '10', PUBLISH_INTERVAL_SEC: '0.5' };
const total = (r: RunReport, name: string) => (r.server?.series.find((s) => s.name === name)?.points ?? []).reduce((a, p) => a + p.v, 0);

test('processing delay past the pack timeout → report verdict rule-engine, citing queue timeouts', { timeout: 150_000 }, async (t) => {
  const emu = await startEmulator(t, { serverStats: { intervalSec: 5 }, faults: { processingDelayMs: 2500 } });
  const cwd = tmpDir(t, 'tblab-triage-');
  const env = { ...RUN, TB_URL: emu.restUrl, MQTT_PORT: String(emu.mqttPort), SERVER_STATS_POLL_SEC: '1', SERVER_STATS_SETTLE_SEC: '7' };
  const prov = await tblab(t, ['provision'], { cwd, env });
  assert.equal(prov.code, 0, prov.stderr);
  const run = await tblab(t, ['run', '--json'], { cwd, env, timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(readFileSync(JSON.parse(run.stdout).report, 'utf8')) as RunReport;
  const server = report.server!;
  assert.equal(server.verdict.tier, 'rule-engine', server.verdict.evidence.join('\n'));
  assert.match(server.verdict.evidence[0], /^queueStats\.Main\.timeoutMsgs = \d+ in the 5 s window/);
  // every message timed out in the rule engine (and was still stored later): the counts reconcile
  assert.equal(total(report, 'queueStats.Main.timeoutMsgs'), report.metrics.traffic.sent);
  assert.equal(report.delivery?.totals.stored, report.metrics.traffic.sent);
  assert.match(run.stderr, /ThingsBoard verdict: rule-engine/);

  const text = await tblab(t, ['report', 'latest'], { cwd, env });
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    /ThingsBoard \(its own statistics\)\n {2}verdict: rule-engine — the rule engine fell behind first\n {4}queueStats\.Main\.timeoutMsgs = /,
  );
  assert.match(text.stdout, /not visible: Prometheus metrics: TB_METRICS_URL is not set/);
});

test('no faults (--embedded) → none; the tenant user cannot read system info and the report says so', { timeout: 150_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-triage-');
  const run = await tblab(t, ['run', '--embedded', '--json'], { cwd, env: RUN, timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { report: string; outcome: string };
  assert.equal(summary.outcome, 'completed');
  const report = JSON.parse(readFileSync(summary.report, 'utf8')) as RunReport;
  const server = report.server!;
  assert.equal(server.verdict.tier, 'none', server.verdict.evidence.join('\n'));
  assert.ok(
    server.verdict.evidence.some((e) => e.startsWith('queueStats.Main: no timeoutMsgs or failedMsgs')),
    server.verdict.evidence.join('\n'),
  );
  assert.ok(
    server.notVisible.some((l) => /^system info \(CPU, memory\): ThingsBoard answered 403/.test(l)),
    server.notVisible.join('\n'),
  );
  // the embedded emulator's windows are 5 s and its Prometheus endpoint is read
  assert.equal(server.series.find((s) => s.name === 'queueStats.Main.totalMsgs')?.windowSec, 5);
  assert.ok(server.series.some((s) => s.name === 'prometheus.tsQueueBacklog'));
  assert.equal(total(report, 'apiUsage.transportMsgCount'), report.metrics.traffic.sent);
  assert.equal(total(report, 'queueStats.Main.successfulMsgs'), report.metrics.traffic.sent);

  const text = await tblab(t, ['report', join(cwd, 'data', 'embedded', 'runs', 'latest.json')], { cwd });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /verdict: none — no tier fell behind/);
  assert.match(text.stdout, /not visible: system info \(CPU, memory\): ThingsBoard answered 403 to this user/);
});
