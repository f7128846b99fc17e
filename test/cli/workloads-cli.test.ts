// The workloads framework end to end (issue 16) through the built CLI: a scenario's `workloads`
// list → the engine's per-row dispatch → every shard's stats channel → `workloads.device` of the
// report, reconciled with the traffic totals and the per-device records; thresholds that name a
// workload metric; a workload this build does not run refused before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { WORKLOAD_NAMES, WORKLOADS } from '../../src/shared/workloads.js';
import type { RunReport } from '../../src/report/schema.js';
import { METRICS_SCHEMA_VERSION, type Percentiles } from '../../src/metrics/snapshot.js';

test(
  'a scenario naming workloads: device runs and reports workloads.device, reconciled, with thresholds on it',
  { timeout: 120_000 },
  async (t) => {
    const cwd = tmpDir(t, 'tblab-workloads-');
    const scenario = { workloads: ['device'], DEVICE_COUNT: 12, SHARDS: 2, PUBLISH_INTERVAL_SEC: 0.5, MQTT_QOS: 1, DASHBOARD: 0 };
    writeFileSync(join(cwd, 'scenario.json'), JSON.stringify(scenario));
    const thresholds = ['device_p99<5s', 'device_failed==0', 'device_in_flight==0', 'device_devices==12'];
    const args = [
      'run',
      '--embedded',
      '--scenario',
      'scenario.json',
      '--duration',
      '4',
      '--json',
      ...thresholds.flatMap((x) => ['--threshold', x]),
    ];
    const run = await tblab(t, args, { cwd });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(readFileSync(JSON.parse(run.stdout).report, 'utf8')) as RunReport;
    assert.deepEqual(report.config.workloads, ['device']);
    const w = report.workloads?.device;
    assert.ok(w, 'report.workloads.device');
    const traffic = report.metrics.traffic;
    const rows = Object.values(report.devices);
    // the workload's counters are the sums of its rows, over both shards
    assert.equal(w.devices, 12);
    assert.ok(traffic.sent >= 12 * 4, `sent ${traffic.sent}`);
    assert.equal(w.sent, traffic.sent);
    assert.equal(
      w.sent,
      rows.reduce((a, d) => a + d.sent, 0),
    );
    assert.equal(
      w.acked,
      rows.reduce((a, d) => a + d.acked, 0),
    );
    assert.equal(w.sent, (w.acked as number) + (w.failed as number) + (w.inFlight as number), 'sent = acked + failed + inFlight');
    // its latency is the PUBACK latency: one sample per acknowledged publish, the same histogram as the run's
    const latency = w.latencyMs as Percentiles;
    assert.equal(latency.count, w.acked);
    assert.deepEqual(latency, report.metrics.latency.ackMs);
    assert.ok(report.histograms.workloads?.device?.latencyMs, 'encoded for report merge');
    assert.ok(w.rates.sent > 0 && w.rates.sent === traffic.sentPerSec, `rates ${JSON.stringify(w.rates)} vs ${traffic.sentPerSec}`);
    assert.equal(w.series, undefined, 'the live series stays in metrics.workloads');
    assert.equal(report.metrics.schemaVersion, METRICS_SCHEMA_VERSION);
    assert.ok((report.metrics.workloads?.device.series ?? []).length >= 2);
    assert.deepEqual(
      report.thresholds?.map((x) => [x.expression, x.ok]),
      thresholds.map((x) => [x, true]),
    );
    assert.equal(report.delivery?.totals.stored, w.sent, 'every publish stored');
  },
);

test('a workload this build does not run, or a misspelt one, is refused naming WORKLOADS, before anything starts', async (t) => {
  const cwd = tmpDir(t, 'tblab-workloads-bad-');
  // a workload this build does not run yet (none once every one is built)
  const name = WORKLOAD_NAMES.find((n) => !WORKLOADS[n].available);
  if (name) {
    const built = WORKLOAD_NAMES.filter((n) => WORKLOADS[n].available).join(', ');
    const off = await tblab(t, ['run', '--embedded', '--workload', 'device', '--workload', name], { cwd });
    assert.equal(off.code, 2, off.stderr);
    assert.match(off.stderr, /CONFIG_INVALID/);
    const said = `WORKLOADS="device,${name}" (from flag): workload ${name} is not available in this build; this build runs ${built}`;
    assert.ok(off.stderr.includes(said), off.stderr);
    assert.doesNotMatch(off.stderr, /\n\s+at /, 'no stack trace');
  }
  const typo = await tblab(t, ['run', '--workload', 'devcie'], { cwd });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown workload devcie \(did you mean device\?\)/);
});
