// The report's `server` section around the verdict: readers accept it or say what is wrong, merged
// reports keep each instance's verdict, the summary prints it, and TB_METRICS_URL's credentials are
// sent but never shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeReport } from '../helpers/report-fixture.js';
import { tmpDir } from '../helpers/tmp.js';
import { cleanup } from '../helpers/cleanup.js';
import { readReportAt } from '../../src/report/read.js';
import { renderSummary } from '../../src/report/summary.js';
import { mergeServer } from '../../src/report/merge-server.js';
import { loadConfig, redactConfig } from '../../src/config/index.js';
import { readPrometheus } from '../../src/thingsboard/server-stats.js';
import type { ServerSection } from '../../src/report/schema.js';
import { LabError } from '../../src/common/errors.js';

const section = (tier: ServerSection['verdict']['tier'], evidence: string[], notVisible: string[] = []): ServerSection => ({
  series: [{ name: 'queueStats.Main.timeoutMsgs', source: 'test', windowSec: 5, kind: 'count', points: [{ t: 1, v: 3 }] }],
  notVisible,
  verdict: { tier, evidence, firstAt: tier === 'none' ? null : 1000 },
});

test('a report with a server section is read and printed; a malformed one is REPORT_INVALID naming it', (t) => {
  const dir = tmpDir(t, 'tblab-server-report-');
  const good = join(dir, 'good.json');
  const server = section('rule-engine', ['queueStats.Main.timeoutMsgs = 3 in the 5 s window ending 10:00:05 (test)'], ['system info: 403']);
  writeFileSync(good, JSON.stringify({ ...makeReport(), server }));
  const r = readReportAt(good);
  const text = renderSummary(r);
  assert.match(
    text,
    /ThingsBoard \(its own statistics\)\n {2}verdict: rule-engine — the rule engine fell behind first\n {4}queueStats\.Main\.timeoutMsgs = 3/,
  );
  assert.match(text, /read: queueStats \(1 series\)\n {2}not visible: system info: 403/);
  // older reports (no server) and SERVER_STATS=0 (null) are read and print no section
  for (const v of [undefined, null]) {
    const p = join(dir, `old-${v}.json`);
    writeFileSync(p, JSON.stringify({ ...makeReport(), server: v }));
    assert.doesNotMatch(renderSummary(readReportAt(p)), /ThingsBoard \(its own/);
  }
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...makeReport(), server: { series: [], notVisible: [], verdict: 'storage' } }));
  assert.throws(
    () => readReportAt(bad),
    (e: unknown) => e instanceof LabError && e.code === 'REPORT_INVALID' && /server\.verdict is string/.test(e.message),
  );
});

test("merged reports keep each instance's verdict; the tier is the one they agree on, else unknown", () => {
  const a = section('rule-engine', ['queueStats.Main.timeoutMsgs = 3 …']);
  const b = section('rule-engine', ['queueStats.Main.timeoutMsgs = 4 …'], ['Prometheus metrics: TB_METRICS_URL is not set']);
  const agree = mergeServer([
    { label: 'instance 1/2', server: a },
    { label: 'instance 2/2', server: b },
  ])!;
  assert.equal(agree.verdict.tier, 'rule-engine');
  assert.deepEqual(agree.verdict.evidence, [
    'instance 1/2: rule-engine',
    'instance 1/2:   queueStats.Main.timeoutMsgs = 3 …',
    'instance 2/2: rule-engine',
    'instance 2/2:   queueStats.Main.timeoutMsgs = 4 …',
  ]);
  assert.deepEqual(agree.series, []);
  assert.match(agree.notVisible[0], /^series: not merged/);
  assert.ok(agree.notVisible.includes('Prometheus metrics: TB_METRICS_URL is not set'));
  const differ = mergeServer([
    { label: 'instance 1/2', server: a },
    { label: 'instance 2/2', server: section('none', []) },
  ])!;
  assert.equal(differ.verdict.tier, 'unknown');
  assert.equal(differ.verdict.firstAt, null);
  const missing = mergeServer([
    { label: 'instance 1/2', server: a },
    { label: 'instance 2/2', server: null },
  ])!;
  assert.equal(missing.verdict.tier, 'unknown');
  assert.ok(missing.notVisible.includes("instance 2/2: no server statistics in this instance's report"));
  assert.equal(mergeServer([{ label: 'instance 1/1', server: undefined }]), null);
});

test('TB_METRICS_URL: credentials become Basic auth and are never shown; bad values name the key', async (t) => {
  let auth: string | undefined;
  const srv = createServer((req, res) => {
    auth = req.headers.authorization;
    res.writeHead(req.url === '/actuator/prometheus?token=s3cret' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end('ts_queue_0_total{statsName="totalMsgs",} 5.0\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup(t, () => new Promise<void>((r) => srv.close(() => r())));
  const base = `http://lab:pw0rd@127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const ok = await readPrometheus(`${base}/actuator/prometheus?token=s3cret`);
  assert.ok(ok.ok);
  assert.equal(auth, `Basic ${Buffer.from('lab:pw0rd').toString('base64')}`);
  const failed = await readPrometheus(`${base}/nothing?token=s3cret`);
  assert.ok(!failed.ok);
  assert.match(failed.why, /^Prometheus metrics at http:\/\/127\.0\.0\.1:\d+\/nothing: /);
  assert.doesNotMatch(failed.why, /pw0rd|s3cret|lab:/);

  const cfg = loadConfig({ cwd: tmpDir(t), env: { TB_METRICS_URL: `${base}/actuator/prometheus` } });
  assert.ok(cfg.ok);
  assert.doesNotMatch(JSON.stringify(redactConfig(cfg.config)), /pw0rd/);
  const bad = loadConfig({ cwd: tmpDir(t), env: { TB_METRICS_URL: 'ftp://x', SERVER_STATS_POLL_SEC: '0' } });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.problems.map((p) => p.key).sort(), ['SERVER_STATS_POLL_SEC', 'TB_METRICS_URL']);
});
