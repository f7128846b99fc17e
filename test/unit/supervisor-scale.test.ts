// What keeps the supervisor's per-fleet costs bounded at 100k devices (docs/scaling.md#supervisor-costs-at-scale):
// the checkpoint period that grows with the fleet, latest.json as a second name of the report
// (one write, not two), the checkpoint's device JSON, a checkpoint's totals that stay the sums of
// the device records it carries, and the snapshot rows (traffic-only rows as their traffic fields).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointIntervalMs, CHECKPOINT_MIN_MS } from '../../src/lab/pipeline/checkpoint-cadence.js';
import { ReportFiles } from '../../src/report/write.js';
import type { RunReport } from '../../src/report/schema.js';
import { Aggregator } from '../../src/engine/aggregate.js';
import { C, C_FIELDS, D, D_FIELDS } from '../../src/engine/counters.js';
import type { ShardSnapshot } from '../../src/engine/protocol.js';
import { checkpointResults, finalResults, type ResultsSource } from '../../src/engine/results-of.js';
import { createHistogram, encodeHistogram } from '../../src/metrics/hdr.js';
import { applyRows, shipRows, T_FIELDS } from '../../src/engine/row-ship.js';
import { STATE, TRAFFIC } from '../../src/engine/states.js';
import { tmpDir } from '../helpers/tmp.js';

test('checkpoint period: 5 s up to 25,000 devices, then 0.2 ms per device in whole seconds', () => {
  assert.equal(checkpointIntervalMs(0), CHECKPOINT_MIN_MS);
  assert.equal(checkpointIntervalMs(10), 5000);
  assert.equal(checkpointIntervalMs(25_000), 5000);
  assert.equal(checkpointIntervalMs(25_001), 6000);
  assert.equal(checkpointIntervalMs(30_000), 6000);
  assert.equal(checkpointIntervalMs(100_000), 20_000);
  // the checkpoint's bytes per second stop growing: ~the same at 50k and 100k devices
  assert.equal(100_000 / checkpointIntervalMs(100_000), 50_000 / checkpointIntervalMs(50_000));
});

test('latest.json is the report under a second name; each write replaces both, no temp files left', (t) => {
  const dir = tmpDir(t, 'tblab-latest-link-');
  const files = new ReportFiles(dir, 'r-1');
  const report = (outcome: string) => ({ runId: 'r-1', outcome, devices: {} }) as unknown as RunReport;
  files.writeCheckpoint(report('partial'), [Buffer.from('{"sim-1":{"sent":1}}')]);
  assert.equal(files.latestLinked, true);
  assert.equal(statSync(files.latestPath).ino, statSync(files.reportPath).ino, 'one file, two names');
  assert.equal(JSON.parse(readFileSync(files.latestPath, 'utf8')).devices['sim-1'].sent, 1);
  files.writeReport(report('completed'));
  assert.equal(statSync(files.latestPath).ino, statSync(files.reportPath).ino);
  assert.equal(JSON.parse(readFileSync(files.latestPath, 'utf8')).outcome, 'completed');
  // another run's report takes latest.json over and leaves r-1.json as it was
  const other = new ReportFiles(dir, 'r-2');
  other.writeReport({ ...report('completed'), runId: 'r-2' });
  assert.equal(JSON.parse(readFileSync(files.latestPath, 'utf8')).runId, 'r-2');
  assert.equal(JSON.parse(readFileSync(files.reportPath, 'utf8')).runId, 'r-1');
  assert.deepEqual(readdirSync(join(dir, 'runs')).sort(), ['latest.json', 'r-1.json', 'r-2.json']);
});

test('a checkpoint: totals are the sums of the records it carries, also when the counters ran ahead of the rows', () => {
  const t0 = 1_780_000_000_000;
  const agg = new Aggregator({
    runId: 'r',
    instance: null,
    startedAt: t0,
    target: { mqtt: 'mqtt://127.0.0.1:1', rest: null, qos: 1, mqttVersion: '3.1.1', publishIntervalSec: 1 },
    shards: [
      { id: 0, names: ['a', 'b'], indices: [1, 2] },
      { id: 1, names: ['c'], indices: [3] },
    ],
    endpoints: [{ endpoint: '127.0.0.1:1', devices: 3 }],
    collapseShare: 0.5,
    collapseWindowSec: 5,
  });
  const empty = encodeHistogram(createHistogram());
  const snap = (shardId: number, sent: number, rows: Array<[number, number]>): ShardSnapshot => {
    const counters = new Float64Array(C_FIELDS);
    counters[C.SENT] = counters[C.ACKED] = sent; // the shard's counters: ahead of the rows it shipped
    const data = new Float64Array(rows.length * D_FIELDS);
    rows.forEach(([, s], k) => (data[k * D_FIELDS + D.SENT] = data[k * D_FIELDS + D.ACKED] = s));
    return {
      ...{ shardId, seq: 1, at: t0 + 1000, counters, byOutcome: {}, byCause: {}, byClass: {}, errorsByKind: {} },
      ...{ hist: { ackMs: empty, connectMs: empty, scheduleLagMs: empty }, eventLoopP99Ms: null, cpuPercent: 1, rssMB: 1 },
      changed: { idx: Int32Array.from(rows.map(([i]) => i)), rows: data },
      disconnects: [],
      events: [],
    };
  };
  const src: ResultsSource = {
    runId: 'r',
    startedAt: t0,
    agg,
    workloads: { encoded: () => ({}) },
    shards: [0, 1],
    files: { events: [], metrics: [] },
  };
  assert.equal(checkpointResults(src, t0), null, 'nothing before the first merged snapshot');
  agg.apply(
    snap(0, 30, [
      [0, 7],
      [1, 5],
    ]),
  );
  agg.apply(snap(1, 9, [[0, 4]]));
  const live = agg.snapshot(t0 + 1000, 'running');
  assert.equal(live.traffic.sent, 39);
  const cp = checkpointResults(src, t0 + 1500)!;
  const devices = JSON.parse(Buffer.concat(cp.devicesJson).toString()) as Record<string, { sent: number; acked: number }>;
  const sum = (k: 'sent' | 'acked') => Object.values(devices).reduce((a, d) => a + d[k], 0);
  assert.equal(cp.results.final.traffic.sent, sum('sent'));
  assert.equal(cp.results.final.traffic.acked, sum('acked'));
  assert.equal(sum('sent'), 16);
  assert.equal(cp.results.outcome, 'partial');
  assert.deepEqual(cp.results.devices, {}, 'the devices travel as chunks');
  assert.deepEqual(
    cp.results.shards.map((s) => s.id),
    [0, 1],
  );
  const fin = finalResults(src, live, t0 + 2000, 'completed', 'duration reached');
  assert.deepEqual(Object.keys(fin.devices), ['a', 'b', 'c']);
  assert.deepEqual(fin.devices, devices);
});

test('checkpoint device JSON: the short way and the long way give exactly JSON.stringify of the records', () => {
  const names = Array.from({ length: 600 }, (_, i) => (i === 7 ? 'odd "name" ü' : `sim-${i + 1}`));
  const agg = new Aggregator({
    runId: 'r',
    instance: null,
    startedAt: 1,
    target: { mqtt: 'mqtt://127.0.0.1:1', rest: null, qos: 1, mqttVersion: '3.1.1', publishIntervalSec: 1 },
    shards: [{ id: 0, names, indices: names.map((_, i) => i + 1) }],
    endpoints: [{ endpoint: '127.0.0.1:1', devices: names.length }],
    collapseShare: 0.5,
    collapseWindowSec: 5,
  });
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const rows = new Float64Array(names.length * D_FIELDS);
  for (let i = 0; i < names.length; i++) {
    const r = i * D_FIELDS;
    // a mix: never connected, connected with fractional latencies, paused, with errors, negative zero
    if (i % 5 !== 0) rows[r + D.CONNECTED_AT] = 1_780_000_000_000 + Math.floor(rnd() * 1e6);
    rows[r + D.CONNECT_MS] = Math.round(rnd() * 1e6) / 1000;
    if (i % 3 !== 0) rows[r + D.FIRST_PUB] = 1_780_000_000_000 + rnd() * 1e6;
    if (i % 3 !== 0) rows[r + D.LAST_PUB] = 1_780_000_000_000 + rnd() * 1e7;
    rows[r + D.SENT] = Math.floor(rnd() * 1e5);
    rows[r + D.ACKED] = i % 11 === 0 ? -0 : Math.floor(rnd() * 1e5);
    rows[r + D.FLAGS] = i % 4;
    rows[r + D.LAST_SEQ] = rows[r + D.SENT];
    if (i % 13 === 0) rows[r + D.ERR0 + (i % 9)] = 2;
  }
  const empty = encodeHistogram(createHistogram());
  agg.apply({
    ...{ shardId: 0, seq: 1, at: 1001, counters: new Float64Array(C_FIELDS), byOutcome: {}, byCause: {}, byClass: {}, errorsByKind: {} },
    ...{ hist: { ackMs: empty, connectMs: empty, scheduleLagMs: empty }, eventLoopP99Ms: null, cpuPercent: 1, rssMB: 1 },
    changed: { idx: Int32Array.from(names.keys()), rows },
    disconnects: [{ i: 17, at: 5, cause: 'server closed', class: 'server' }],
    events: [],
  });
  assert.equal(Buffer.concat(agg.deviceRecordsChunks()).toString(), JSON.stringify(agg.deviceRecords()));
});

test('snapshot rows: state changes ship whole every time, traffic-only rows as traffic fields when due; the copy equals the shard', () => {
  const n = 300;
  const dev = new Float64Array(n * D_FIELDS);
  const dirty = new Uint8Array(n);
  const view = { rows: new Float64Array(n * D_FIELDS), stale: new Uint8Array(Math.ceil(n / 256)) };
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < D_FIELDS; f++) dev[i * D_FIELDS + f] = i * 100 + f + 1;
    dirty[i] = STATE;
  }
  // the connect: every row whole
  let s = shipRows(dev, dirty, n, false);
  assert.equal(s.changed.idx.length, n);
  assert.equal(s.traffic.idx.length, 0);
  assert.equal(applyRows(view, s), 10, 'the earliest first publish');
  assert.deepEqual(view.rows, dev);
  // traffic on every row, a state change on rows 5 and 260 (their traffic rides along)
  for (let i = 0; i < n; i++) {
    dev[i * D_FIELDS + D.SENT] += 10;
    dev[i * D_FIELDS + D.LAST_PUB] += 1000;
    dirty[i] |= TRAFFIC;
  }
  dev[5 * D_FIELDS + D.FLAGS] = 2;
  dev[260 * D_FIELDS + D.ERR0] = 1;
  dirty[5] |= STATE;
  dirty[260] |= STATE;
  view.stale.fill(0);
  s = shipRows(dev, dirty, n, false); // not a traffic round: the two state rows only
  assert.deepEqual([...s.changed.idx], [5, 260]);
  assert.equal(s.traffic.idx.length, 0);
  applyRows(view, s);
  assert.deepEqual([...view.stale], [1, 1]);
  assert.equal(view.rows[5 * D_FIELDS + D.SENT], dev[5 * D_FIELDS + D.SENT]);
  assert.notEqual(view.rows[6 * D_FIELDS + D.SENT], dev[6 * D_FIELDS + D.SENT], 'traffic waits for its round');
  s = shipRows(dev, dirty, n, true); // the traffic round: the other 298 as traffic fields
  assert.equal(s.changed.idx.length, 0);
  assert.equal(s.traffic.idx.length, n - 2);
  assert.equal(s.traffic.rows.length, (n - 2) * T_FIELDS);
  applyRows(view, s);
  assert.deepEqual(view.rows, dev);
  assert.deepEqual([...dirty], new Array(n).fill(0));
  assert.equal(shipRows(dev, dirty, n, true).traffic.idx.length, 0, 'nothing left to ship');
});
