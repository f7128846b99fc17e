import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveReportDashboard, timelineToSeries } from '../../src/dashboard/index.js';
import { LabError } from '../../src/common/errors.js';
import type { RunReport, TimelinePoint } from '../../src/report/schema.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';
import { tmpDir } from '../helpers/tmp.js';

function timeline(n: number): TimelinePoint[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: 1_767_261_600_000 + i * 1000,
    t: i,
    sent: i * 10,
    acked: i * 10,
    failed: i,
    connected: 10,
    sentPerSec: 10,
    ackedPerSec: 10,
    mbpsOut: 0.01,
    ackP99Ms: 5,
    scheduleLagP99Ms: 1,
    eventLoopDelayP99Ms: 2,
  }));
}

test('serveReportDashboard serves a report file: final state, metrics, and the whole timeline as series', async (t) => {
  const dir = tmpDir(t, 'tblab-serve-');
  const metrics = { ...fixtureSnapshot(), state: 'finished' as const };
  const report = {
    schemaVersion: 1,
    tool: 'tb-load-lab',
    runId: metrics.runId,
    instance: null,
    outcome: 'completed',
    endReason: 'duration reached',
    endedAt: metrics.at,
    metrics,
    timeline: timeline(90),
    config: {},
    devices: {},
  } as unknown as RunReport;
  const path = join(dir, 'run.json');
  writeFileSync(path, JSON.stringify(report));

  const served = await serveReportDashboard(path, { host: '127.0.0.1', port: 0 });
  t.after(() => served.close());
  const info = (await (await fetch(`${served.url}/api/info`)).json()) as Record<string, any>;
  assert.equal(info.mode, 'report');
  assert.equal(info.runId, metrics.runId);
  assert.deepEqual(info.final, { outcome: 'completed', endReason: 'duration reached', endedAt: metrics.at });
  const snap = (await (await fetch(`${served.url}/api/metrics`)).json()) as Record<string, any>;
  assert.equal(snap.traffic.sent, metrics.traffic.sent);
  assert.equal(snap.series.length, 90);
  assert.equal(snap.series[5].failedPerSec, 1);
  assert.equal((await fetch(`${served.url}/api/control/stop`, { method: 'POST' })).status, 404, 'no control in the report view');
});

test('serveReportDashboard names the file when it is missing or not a report', async (t) => {
  const dir = tmpDir(t, 'tblab-serve-');
  const missing = join(dir, 'nope.json');
  await assert.rejects(
    serveReportDashboard(missing, { port: 0 }),
    (e: unknown) => e instanceof LabError && e.code === 'RUN_NOT_FOUND' && e.message.includes(missing),
  );
  const garbage = join(dir, 'garbage.json');
  writeFileSync(garbage, '{"hello": 1}');
  await assert.rejects(
    serveReportDashboard(garbage, { port: 0 }),
    (e: unknown) => e instanceof LabError && e.code === 'REPORT_INVALID' && e.message.includes(garbage),
  );
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"tool": ');
  await assert.rejects(serveReportDashboard(broken, { port: 0 }), (e: unknown) => e instanceof LabError && e.code === 'REPORT_INVALID');
});

test('long timelines are thinned to at most 600 chart points, keeping the first', () => {
  const s = timelineToSeries(timeline(3600));
  assert.ok(s.length <= 600 && s.length >= 500, String(s.length));
  assert.equal(s[0].t, 0);
});
