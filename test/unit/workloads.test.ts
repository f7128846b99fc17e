// The workloads framework's parts (issue 16): the WORKLOADS key in every layer, the per-row
// routing of a shard with several row kinds, the fleet counters from the rows, the supervisor's
// accumulation of the shards' stats (sums, whole-second rates, exact histograms), thresholds that
// name a workload, and `report merge` of workloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { WORKLOAD_NAMES, WORKLOADS } from '../../src/shared/workloads.js';
import { createHistogram, decodeHistogram, encodeHistogram, recordMs, summarize } from '../../src/metrics/hdr.js';
import { WorkloadMeter } from '../../src/metrics/workload-meter.js';
import { WorkloadAccumulator } from '../../src/engine/workload-accumulator.js';
import { WorkloadMux, fleetCounters, rowKinds } from '../../src/engine/workload-rows.js';
import { InflightWindows } from '../../src/engine/inflight.js';
import { D, D_FIELDS } from '../../src/engine/counters.js';
import { parseThreshold } from '../../src/metrics/thresholds.js';
import { evaluateThresholds } from '../../src/metrics/thresholds.js';
import { mergeWorkloads } from '../../src/report/merge-workloads.js';
import type { Workload } from '../../src/device/workload.js';
import type { ShardDevice } from '../../src/engine/protocol.js';
import type { RunReport } from '../../src/report/schema.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

const creds = { type: 'ACCESS_TOKEN', token: 't' } as const;

test('WORKLOADS: default device; flags, lists and a scenario `workloads` list; bad names refused naming the key', () => {
  const cwd = tmpDir(fileScope, 'tblab-wl-');
  const load = (o: Parameters<typeof loadConfig>[0]) => loadConfig({ cwd, env: {}, envFile: false, ...o });
  const def = load({});
  assert.ok(def.ok && def.config.workloads.join() === 'device');
  const flags = load({ flags: { WORKLOADS: 'device, device' } });
  assert.ok(flags.ok && flags.config.workloads.join() === 'device', 'repeats count once');
  writeFileSync(join(cwd, 'a.json'), JSON.stringify({ workloads: ['device'] }));
  const sc = load({ scenarioFile: 'a.json' });
  assert.ok(sc.ok && sc.config.workloads.join() === 'device' && sc.origin.WORKLOADS === 'scenario');
  writeFileSync(join(cwd, 'b.json'), JSON.stringify({ workloads: ['device'], WORKLOADS: 'device' }));
  const both = load({ scenarioFile: 'b.json' });
  assert.ok(!both.ok && both.problems.some((p) => p.key === 'workloads' && /not both/.test(p.expected)));
  // a workload this build does not run yet (none, once every one is built)
  const off = WORKLOAD_NAMES.find((n) => !WORKLOADS[n].available);
  const built = WORKLOAD_NAMES.filter((n) => WORKLOADS[n].available).join(', ');
  const unavailable = off ? [[off, new RegExp(`workload ${off} is not available in this build; this build runs ${built}`)] as const] : [];
  for (const [v, re] of [
    ...unavailable,
    ['devcie', /unknown workload devcie \(did you mean device\?\)/],
    ['', /expected at least one workload/],
  ] as const) {
    const r = load({ flags: { WORKLOADS: v } });
    assert.ok(!r.ok);
    assert.equal(r.problems[0].key, 'WORKLOADS');
    assert.match(r.problems[0].expected, re);
  }
});

/** A workload that records the calls it gets, by name. */
function recorder(name: string, calls: string[]): Workload {
  return {
    connect: (i) => void calls.push(`${name}.connect(${i})`),
    backedUp: (i) => (calls.push(`${name}.backedUp(${i})`), false),
    append: (i, seq) => (calls.push(`${name}.append(${i},${seq})`), 10),
    flush: (i) => void calls.push(`${name}.flush(${i})`),
    housekeep: (i) => void calls.push(`${name}.housekeep(${i})`),
    close: (i) => void calls.push(`${name}.close(${i})`),
    abort: (i) => void calls.push(`${name}.abort(${i})`),
  };
}

test('rows of several kinds: each row call goes to its kind, and each kind counts its own rows', () => {
  const devices: ShardDevice[] = [
    { name: 'a', index: 1, credentials: creds },
    { name: 'b', index: 2, credentials: creds, workload: 'http' },
    { name: 'c', index: 3, credentials: creds, workload: 'device' },
  ];
  const r = rowKinds(devices);
  assert.deepEqual(r.kinds, ['device', 'http']);
  assert.deepEqual([...r.kind], [0, 1, 0]);
  assert.deepEqual(r.rows, [[0, 2], [1]]);
  const calls: string[] = [];
  const mux = new WorkloadMux(r.kind, [recorder('device', calls), recorder('http', calls)]);
  mux.connect(1, undefined);
  mux.append(2, 7, 0, 1);
  mux.flush(2, 0);
  mux.backedUp(1);
  mux.housekeep(0, 0);
  mux.close(1, true);
  mux.abort(0, { cause: 'x', class: 'generic' }, null);
  assert.deepEqual(calls, [
    'http.connect(1)',
    'device.append(2,7)',
    'device.flush(2)',
    'http.backedUp(1)',
    'device.housekeep(0)',
    'http.close(1)',
    'device.abort(0)',
  ]);

  const dev = new Float64Array(3 * D_FIELDS);
  const set = (i: number, sent: number, acked: number, failed: number) => {
    dev[i * D_FIELDS + D.SENT] = sent;
    dev[i * D_FIELDS + D.ACKED] = acked;
    dev[i * D_FIELDS + D.FAILED] = failed;
  };
  set(0, 10, 7, 1);
  set(1, 5, 5, 0);
  set(2, 4, 2, 0);
  const inflight = new InflightWindows(3, true);
  inflight.push(0, 1, 0);
  inflight.push(0, 2, 0);
  inflight.push(2, 1, 0);
  inflight.push(2, 2, 0);
  assert.deepEqual(fleetCounters(r, dev, inflight), [
    { devices: 2, sent: 14, acked: 9, failed: 1, inFlight: 4 },
    { devices: 1, sent: 5, acked: 5, failed: 0, inFlight: 0 },
  ]);
});

test('the supervisor adds the shards up: counters summed, rates over whole seconds, histograms exact, gauges without rate', () => {
  const acc = new WorkloadAccumulator(2, 0);
  assert.equal(acc.summary(0, false, 0), undefined, 'nothing before the first share');
  const meter = (sent: number, answered: number, inFlight: number, lat: number[]) => {
    const m = new WorkloadMeter('rpc');
    Object.assign(m.counters, { sent, answered, inFlight });
    for (const v of lat) recordMs(m.hist.latencyMs, v);
    if (sent > answered + inFlight) m.cause('timeout 408', sent - answered - inFlight);
    return m.take();
  };
  acc.apply(0, 1000, { rpc: meter(10, 8, 1, [5, 6]) }, false);
  acc.apply(1, 1000, { rpc: meter(20, 20, 0, [50]) }, false);
  const live = acc.summary(1000, false, 1)!;
  assert.deepEqual(Object.keys(live), ['rpc']);
  const rpc = live.rpc;
  assert.equal(rpc.sent, 30);
  assert.equal(rpc.answered, 28);
  assert.equal(rpc.inFlight, 1);
  assert.equal(rpc.timeouts, 0, 'every counter of the def is present');
  assert.deepEqual(rpc.byCause, { 'timeout 408': 1 });
  assert.equal(rpc.rates.sent, 30);
  assert.equal(rpc.rates.answered, 28);
  assert.equal(rpc.rates.timeouts, 0);
  assert.ok(!('inFlight' in rpc.rates) && !('clientInFlight' in rpc.rates), 'no rate for the gauges');
  const h = createHistogram();
  for (const v of [5, 6, 50]) recordMs(h, v);
  // as shipped: encoded and decoded (the max becomes its bucket's highest equivalent value)
  const shipped = summarize(decodeHistogram(encodeHistogram(h)));
  assert.deepEqual(rpc.latencyMs, shipped);
  assert.equal(rpc.series?.length, 1);
  assert.equal(rpc.series?.[0].p99Ms, shipped.p99);
  assert.deepEqual(rpc.series?.[0].rates, { sent: 30, answered: 28, timeouts: 0 });
  // a partial second (500 ms) gives no new rate; the histogram still adds up
  acc.apply(0, 1500, { rpc: meter(15, 13, 0, [7]) }, false);
  const next = acc.summary(1500, false, 1.5)!.rpc;
  assert.equal(next.sent, 35);
  assert.equal(next.rates.sent, 30);
  assert.equal((next.latencyMs as { count: number }).count, 4);
  // final: rates over the seconds under load
  const fin = acc.summary(2000, true, 2)!.rpc;
  assert.equal(fin.rates.sent, 17.5);
  assert.equal(fin.series?.length, 2, 'no series point for the final snapshot');
  assert.deepEqual(Object.keys(acc.encoded().rpc), ['latencyMs']);
});

test('thresholds name workload metrics: <workload>_<counter> and <workload>_p99 read from snapshot.workloads', () => {
  const snap = fixtureSnapshot();
  const ts = ['device_p99<200ms', 'device_failed==0', 'device_in_flight<=6', 'device_sent>=400'].map((x) => parseThreshold(x));
  assert.equal(ts[0].kind, 'duration');
  const input = { snapshot: snap, elapsedSec: 42, connectedMin: null, connectedFinal: 8, delivery: null };
  const res = evaluateThresholds(ts, input);
  assert.deepEqual(
    res.map((r) => [r.expression, r.ok, r.actual]),
    [
      ['device_p99<200ms', true, snap.latency.ackMs.p99],
      ['device_failed==0', false, 4],
      ['device_in_flight<=6', true, 6],
      ['device_sent>=400', true, 400],
    ],
  );
  const none = evaluateThresholds([parseThreshold('device_p99<200ms')], { ...input, snapshot: fixtureSnapshot({ withWorkloads: false }) });
  assert.equal(none[0].actual, null, 'a workload that did not run: no data');
  assert.equal(none[0].ok, false);
  assert.equal(parseThreshold('rpc_p99<500ms').kind, 'duration', 'the rpc workload names its metrics too');
  assert.equal(parseThreshold('rpc_timeouts==0').kind, 'count');
});

test('report merge adds the instances’ workloads: counters and rates summed, histograms merged exactly', () => {
  const part = (sent: number, lat: number[]) => {
    const h = createHistogram();
    for (const v of lat) recordMs(h, v);
    return {
      runId: `r${sent}`,
      workloads: {
        device: {
          devices: 5,
          sent,
          acked: sent,
          failed: 0,
          inFlight: 0,
          latencyMs: summarize(h),
          rates: { sent: sent / 10 },
          byCause: { x: 1 },
        },
      },
      histograms: { ackMs: null, connectMs: null, scheduleLagMs: null, workloads: { device: { latencyMs: encodeHistogram(h) } } },
    } as unknown as RunReport;
  };
  const m = mergeWorkloads([part(100, [1, 2, 3]), part(50, [100])]);
  assert.deepEqual(m.warnings, []);
  const d = m.workloads!.device;
  assert.equal(d.devices, 10);
  assert.equal(d.sent, 150);
  assert.deepEqual(d.rates, { sent: 15 });
  assert.deepEqual(d.byCause, { x: 2 });
  const all = createHistogram();
  for (const v of [1, 2, 3, 100]) recordMs(all, v);
  assert.deepEqual(d.latencyMs, summarize(decodeHistogram(encodeHistogram(all))));
  assert.ok(m.histograms!.device.latencyMs);
});
