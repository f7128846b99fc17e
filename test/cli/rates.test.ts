// Rates from whole seconds (issue 20 #8): a 100-device × 1 msg/s run reports 100 msg/s in every
// rate field of the report, not the final partial second's 500; the per-shard CSV has its rates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { loadPoints } from '../../src/metrics/thresholds.js';
import { summarize } from '../../src/report/summary.js';
import type { RunReport } from '../../src/report/schema.js';

const near = (what: string, actual: number, expected: number, tolerance = 0.02) =>
  assert.ok(Math.abs(actual - expected) <= expected * tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance * 100}%`);

test('100 devices × 1 msg/s: every rate field of the report is 100 ± 2, the CSV has rates', { timeout: 180_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-rates-');
  const env = {
    DEVICE_COUNT: '100',
    SHARDS: '2',
    DASHBOARD: '0',
    CONNECT_RATE: '0',
    PUBLISH_INTERVAL_SEC: '1',
    MQTT_QOS: '1',
    DELIVERY_CHECK: '0',
  };
  const run = await tblab(t, ['run', '--embedded', '--duration', '8', '--json'], { cwd, env, timeoutMs: 150_000 });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(readFileSync(JSON.parse(run.stdout).report, 'utf8')) as RunReport;
  const tr = report.metrics.traffic;
  assert.ok(tr.loadSec! >= 7.5 && tr.loadSec! <= 9.5, `seconds under load ${tr.loadSec}`);
  near('sentPerSec', tr.sentPerSec, 100);
  near('sentPerSec = sent ÷ seconds under load', tr.sentPerSec, tr.sent / tr.loadSec!);
  near('ackedPerSec', tr.ackedPerSec, 100);
  near('avgRatePerDevice', tr.avgRatePerDevice * 100, 100);
  const bytesPerMsg = tr.bytesSent / tr.sent;
  near('mbpsOut', tr.mbpsOut, (100 * bytesPerMsg * 8) / 1e6);
  const last = report.timeline.at(-1)!;
  t.diagnostic(
    `sentPerSec ${tr.sentPerSec}, ackedPerSec ${tr.ackedPerSec}, mbpsOut ${tr.mbpsOut}, loadSec ${tr.loadSec}, last point ${last.sentPerSec}/${last.ackedPerSec}`,
  );
  near('last timeline point sentPerSec', last.sentPerSec, 100);
  // PUBACKs of one second bunch up when the machine is busy (seen: 106.8 under the full suite);
  // the run's ackedPerSec above stays within 2 %
  near('last timeline point ackedPerSec', last.ackedPerSec, 100, 0.1);
  near('last timeline point mbpsOut', last.mbpsOut, (100 * bytesPerMsg * 8) / 1e6);
  // every whole second under load after the first publishes: no spikes from misaligned shard snapshots
  const steady = loadPoints(report.timeline).filter((p) => p.t >= 3);
  for (const p of steady) near(`timeline t=${p.t} sentPerSec`, p.sentPerSec, 100, 0.05);
  const s = summarize(report);
  near('summary avg msg/s', s.traffic.avgMsgPerSec, 100);
  assert.ok(s.traffic.peakMsgPerSec <= 105, `peak ${s.traffic.peakMsgPerSec}`);

  for (const csv of report.files.metrics) {
    const lines = readFileSync(join(cwd, 'data', 'embedded', csv), 'utf8')
      .trim()
      .split('\n');
    const head = lines[0].split(',');
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
    const rated = rows.filter((r) => r.sentPerSec !== '');
    assert.ok(rated.length >= rows.length - 1, `${csv}: only the final partial second may lack rates`);
    // each shard carries half the fleet
    const mid = rated.filter((r) => Number(r.t) >= 3 && Number(r.t) <= 8);
    assert.ok(mid.length >= 3, csv);
    for (const r of mid) {
      near(`${csv} t=${r.t} sentPerSec`, Number(r.sentPerSec), 50, 0.06);
      near(`${csv} t=${r.t} ackedPerSec`, Number(r.ackedPerSec), 50, 0.1);
    }
  }
});
