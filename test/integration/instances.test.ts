// Four lab instances as separate processes (`tblab run --instance i/4`) against one emulator and
// one shared data dir, then `tblab merge-reports`: slices, totals and percentiles must add up, and
// the dashboard's report view serves the merged run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEmulator, fetchStats } from '../helpers/emulator.js';
import { deviceName, sliceBounds } from '../../src/common/fleet.js';
import type { RunReport } from '../../src/report/schema.js';
import { exactPercentile } from '../helpers/instance-report.js';
import { serveReportDashboard } from '../../src/dashboard/index.js';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';

const FLEET = 40;
const N = 4;

/** Raw samples the runs logged: every connect's latency and (LOG_EVERY_MESSAGE) every publish's schedule lag. */
function rawSamples(dataDir: string, runIds: string[]): { connectMs: number[]; lagMs: number[] } {
  const out = { connectMs: [] as number[], lagMs: [] as number[] };
  for (const f of readdirSync(join(dataDir, 'logs'))) {
    if (!runIds.some((id) => f.startsWith(`${id}-`))) continue;
    for (const line of readFileSync(join(dataDir, 'logs', f), 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { ev: string; connectMs?: number; lagMs?: number };
      if (e.ev === 'connected') out.connectMs.push(e.connectMs!);
      if (e.ev === 'publish') out.lagMs.push(Math.max(0, e.lagMs!)); // recorded as 0 when early
    }
  }
  return out;
}

const withinHdr = (actual: number | null, exact: number, what: string) => {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(Math.abs(actual - exact) <= exact * 0.001 + 0.001, `${what}: merged ${actual} ms vs raw ${exact} ms`);
};

test('four instances split one fleet; the merged report equals what the emulator stored', { timeout: 180_000 }, async (t) => {
  const emu = await startEmulator(t);
  const cwd = tmpDir(t, 'tblab-instances-');
  const runId = `it-${randomBytes(3).toString('hex')}`;
  const env = {
    TB_URL: emu.restUrl,
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(emu.mqttPort),
    DEVICE_COUNT: String(FLEET),
    DURATION_SEC: '6',
    PUBLISH_INTERVAL_SEC: '0.5',
    SHARDS: '1',
    METRICS_PORT: '0',
    LOG_EVERY_MESSAGE: '1',
    RUN_ID: runId,
  };
  const cli = { cwd, env: { HOME: cwd, ...env }, timeoutMs: 90_000 };

  const prov = await tblab(t, ['provision', '--no-progress'], cli);
  assert.equal(prov.code, 0, prov.stderr);

  const runs = await Promise.all(Array.from({ length: N }, (_, k) => tblab(t, ['run', '--instance', `${k + 1}/${N}`, '--json'], cli)));
  runs.forEach((r, k) => assert.equal(r.code, 0, `instance ${k + 1}: ${r.stderr}`));

  // each instance ran exactly its slice: disjoint, together the whole fleet
  const reports = runs.map((r) => JSON.parse(readFileSync(JSON.parse(r.stdout).report, 'utf8')) as RunReport);
  const owner = new Map<string, string>();
  reports.forEach((rep, k) => {
    assert.equal(rep.instance, `${k + 1}/${N}`);
    assert.equal(rep.runId, `${runId}-i${k + 1}of${N}`);
    const { start, end } = sliceBounds(FLEET, k + 1, N);
    const expected = Array.from({ length: end - start }, (_, j) => deviceName('sim', start + j + 1));
    assert.deepEqual(Object.keys(rep.devices).sort(), expected);
    for (const d of expected) {
      assert.equal(owner.get(d), undefined, `${d} ran in instances ${owner.get(d)} and ${rep.instance}`);
      owner.set(d, rep.instance!);
    }
  });
  assert.equal(owner.size, FLEET);

  const merged = await tblab(t, ['merge-reports', '--json'], cli);
  assert.equal(merged.code, 0, merged.stderr);
  const m = JSON.parse(merged.stdout) as RunReport;
  const dataDir = join(cwd, 'data');
  assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'runs', `${runId}-merged.json`), 'utf8')), m);
  assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'runs', 'latest.json'), 'utf8')), m);
  assert.equal(m.runId, `${runId}-merged`);
  assert.deepEqual(
    m.mergedFrom,
    reports.map((r) => r.runId),
  );
  assert.equal(m.outcome, 'completed');

  // totals and per-device counts equal what the emulator stored
  const stats = await fetchStats(emu.restUrl);
  const tr = m.metrics.traffic;
  assert.ok(stats.messages > FLEET * 4, `only ${stats.messages} messages stored`);
  assert.equal(
    tr.sent,
    reports.reduce((a, r) => a + r.metrics.traffic.sent, 0),
  );
  assert.equal(tr.sent, stats.messages);
  assert.equal(tr.acked, stats.messages);
  assert.equal(tr.failed, 0);
  assert.equal(m.metrics.connections.configured, FLEET);
  assert.equal(Object.keys(m.devices).length, FLEET);
  for (const [name, d] of Object.entries(m.devices)) {
    const s = stats.perDevice[name];
    assert.ok(s, `${name} unknown to the emulator`);
    assert.equal(d.sent, s.messages, `${name} sent`);
    assert.equal(d.acked, s.messages, `${name} acked`);
    assert.equal(d.lastSequence, s.maxSequence, `${name} last sequence`);
    assert.equal(s.gaps + s.duplicates, 0, name);
  }
  assert.equal(m.timeline.at(-1)!.sent, tr.sent);

  // merged percentiles equal those of the union of the raw samples (HDR precision)
  assert.equal(m.metrics.latency.ackMs.count, tr.acked);
  const raw = rawSamples(
    dataDir,
    reports.map((r) => r.runId),
  );
  assert.equal(raw.connectMs.length, m.metrics.latency.connectMs.count);
  assert.equal(raw.lagMs.length, m.metrics.latency.scheduleLagMs.count);
  for (const [p, k] of [
    [50, 'p50'],
    [90, 'p90'],
    [99, 'p99'],
    [100, 'max'],
  ] as const) {
    withinHdr(m.metrics.latency.connectMs[k], exactPercentile(raw.connectMs, p), `connect ${k}`);
    withinHdr(m.metrics.latency.scheduleLagMs[k], exactPercentile(raw.lagMs, p), `schedule lag ${k}`);
  }

  // the dashboard's report view serves the merged run like any other
  const served = await serveReportDashboard(join(dataDir, 'runs', `${runId}-merged.json`), { host: '127.0.0.1', port: 0 });
  t.after(() => served.close());
  const api = (await (await fetch(`${served.url}/api/metrics`)).json()) as RunReport['metrics'];
  assert.equal(api.runId, m.runId);
  assert.equal(api.traffic.sent, tr.sent);
  assert.equal(api.latency.ackMs.p99, m.metrics.latency.ackMs.p99);
});
