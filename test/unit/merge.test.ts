import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeReports, mergedRunId, type MergeInput } from '../../src/report/merge.js';
import { decodeHistogram, summarize } from '../../src/metrics/hdr.js';
import { sliceBounds } from '../../src/common/fleet.js';
import { LabError } from '../../src/common/errors.js';
import { instanceReport, rng, exactPercentile, type InstanceSpec } from '../helpers/instance-report.js';

const T0 = Date.UTC(2026, 10, 27, 15, 0, 0);
const FLEET = 40;
const N = 4;

/** Very different latency shapes per instance, so averaging percentiles would be visibly wrong. */
const SHAPES: Array<{ n: number; lo: number; hi: number }> = [
  { n: 2000, lo: 1, hi: 5 },
  { n: 500, lo: 5, hi: 20 },
  { n: 3000, lo: 0.3, hi: 2 },
  { n: 200, lo: 50, hi: 400 },
];

function samples(i: number, kind: number): number[] {
  const r = rng(i * 100 + kind);
  const { n, lo, hi } = SHAPES[i - 1];
  return Array.from({ length: n }, () => Math.round((lo + r() * (hi - lo)) * 1000) / 1000);
}

function spec(i: number, over: Partial<InstanceSpec> = {}): InstanceSpec {
  const { start, end } = sliceBounds(FLEET, i, N);
  return {
    index: i,
    count: N,
    deviceIndexes: Array.from({ length: end - start }, (_, k) => start + k + 1),
    ackMs: samples(i, 1),
    connectMs: samples(i, 2).slice(0, end - start),
    scheduleLagMs: samples(i, 3),
    startMs: T0 + (i - 1) * 1000,
    seconds: 6,
    ...over,
  };
}

const inputs = (specs: InstanceSpec[]): MergeInput[] => specs.map((s) => ({ source: `runs/i${s.index}.json`, report: instanceReport(s) }));
const all = (over: (i: number) => Partial<InstanceSpec> = () => ({})) => inputs([1, 2, 3, 4].map((i) => spec(i, over(i))));

const withinHdr = (actual: number | null, exact: number, what: string) => {
  assert.ok(actual !== null, `${what} is null`);
  // 3 significant digits: a value is reported within 0.1% (plus the 1 µs recording unit)
  assert.ok(Math.abs(actual - exact) <= exact * 0.001 + 0.001, `${what}: merged ${actual} ms vs exact ${exact} ms`);
};

test('merged percentiles equal those of the union of the raw samples (HDR precision), not averages', () => {
  const { report } = mergeReports(all());
  const union = [1, 2, 3, 4].flatMap((i) => samples(i, 1));
  const ack = report.metrics.latency.ackMs;
  assert.equal(ack.count, union.length);
  for (const [p, v] of [
    [50, ack.p50],
    [90, ack.p90],
    [99, ack.p99],
    [99.9, ack.p999],
    [100, ack.max],
  ] as const) {
    withinHdr(v, exactPercentile(union, p), `ack p${p}`);
  }
  withinHdr(ack.min, Math.min(...union), 'ack min');
  // the naive answer — averaging per-instance p99 — is far off for these shapes
  const perInstanceP99 = [1, 2, 3, 4].map((i) => exactPercentile(samples(i, 1), 99));
  const averaged = perInstanceP99.reduce((a, b) => a + b) / 4;
  assert.ok(Math.abs(averaged - ack.p99!) > ack.p99! * 0.1, `averaged p99 ${averaged} should differ from the true ${ack.p99}`);
  // the encoded merged histogram decodes to the same summary, so a merged report can be merged or compared again
  assert.deepEqual(summarize(decodeHistogram(report.histograms.ackMs!)), ack);
  const lagUnion = [1, 2, 3, 4].flatMap((i) => samples(i, 3));
  withinHdr(report.metrics.latency.scheduleLagMs.p99, exactPercentile(lagUnion, 99), 'schedule lag p99');
  assert.equal(report.metrics.generator.scheduleLagP99Ms, report.metrics.latency.scheduleLagMs.p99);
  const connectUnion = [1, 2, 3, 4].flatMap((i) => spec(i).connectMs);
  assert.equal(report.metrics.latency.connectMs.count, FLEET);
  withinHdr(report.metrics.latency.connectMs.p50, exactPercentile(connectUnion, 50), 'connect p50');
});

test('counters and count maps are summed; devices united; provenance recorded', () => {
  const ins = all();
  const { report, warnings } = mergeReports(ins);
  assert.deepEqual(warnings, []);
  const sum = (f: (r: MergeInput['report']) => number) => ins.reduce((a, i) => a + f(i.report), 0);
  const m = report.metrics;
  assert.equal(
    m.traffic.sent,
    sum((r) => r.metrics.traffic.sent),
  );
  assert.equal(
    m.traffic.acked,
    SHAPES.reduce((a, s) => a + s.n, 0),
  );
  assert.equal(m.traffic.failed, FLEET);
  assert.equal(m.traffic.skipped, 1 + 2 + 3 + 4);
  assert.equal(
    m.traffic.bytesSent,
    sum((r) => r.metrics.traffic.bytesSent),
  );
  assert.equal(m.connections.configured, FLEET);
  assert.equal(m.connections.attempts, FLEET + 10);
  assert.deepEqual(m.connections.byOutcome, { accepted: FLEET, timeout: 10 });
  assert.deepEqual(m.disconnects.byCause, { 'server closed': 10 });
  assert.deepEqual(m.errors.byClass, { 'ack timeout': FLEET });
  assert.equal(m.traffic.avgSentPerDevice, m.traffic.sent / FLEET);
  // per-device records: every device of the fleet exactly once, and they add up to the totals
  const names = Object.keys(report.devices);
  assert.equal(names.length, FLEET);
  assert.equal(new Set(names).size, FLEET);
  assert.equal(
    Object.values(report.devices).reduce((a, d) => a + d.sent, 0),
    m.traffic.sent,
  );
  assert.equal(report.instance, null);
  assert.equal(m.instance, null);
  assert.deepEqual(
    report.mergedFrom,
    ins.map((i) => i.report.runId),
  );
  assert.equal(report.runId, '20261127-150000-ab12-merged');
  assert.equal(report.config.instance, null);
  assert.equal(report.machine.cpus, 2, 'four instances on one host count its CPUs once');
  assert.equal(report.files.events.length, 4);
  assert.equal(m.shards.length, 4);
  assert.deepEqual(
    m.shards.map((s) => s.id),
    [0, 1, 2, 3],
  );
  assert.equal(m.generator.verdict, 'lagging');
  assert.equal(m.generator.cpuPercent, 80);
  assert.equal(report.startedAt, new Date(T0).toISOString());
  assert.equal(report.endedAt, new Date(T0 + 3000 + 6000).toISOString());
  assert.equal(report.durationSec, 9);
});

test('timelines align on the wall-clock second: running totals carry, rates add, p99 is the largest', () => {
  const { report } = mergeReports(all());
  const tl = report.timeline;
  // instance i covers T0+(i-1)s+1s … T0+(i-1)s+6s: the union spans 9 seconds
  assert.equal(tl.length, 9);
  assert.deepEqual(
    tl.map((p) => p.ts),
    Array.from({ length: 9 }, (_, k) => T0 + (k + 1) * 1000),
  );
  assert.deepEqual(
    tl.map((p) => p.t),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  // at T0+4s all four run: rates 10+20+30+40
  assert.equal(tl[3].sentPerSec, 100);
  assert.equal(tl[3].connected, FLEET);
  // at T0+1s only instance 1 runs
  assert.equal(tl[0].sentPerSec, 10);
  assert.equal(tl[0].connected, 10);
  // the last point holds every instance's final totals
  const last = tl[tl.length - 1];
  assert.equal(last.sent, report.metrics.traffic.sent);
  assert.equal(last.acked, report.metrics.traffic.acked);
  assert.equal(last.failed, FLEET);
  assert.equal(last.sentPerSec, 40, 'instances 1-3 had ended: only instance 4 adds to the rate');
  assert.ok(
    tl.every((p, k) => k === 0 || p.sent >= tl[k - 1].sent),
    'running totals never go down',
  );
  assert.equal(tl[3].eventLoopDelayP99Ms, 8);
  assert.equal(report.metrics.series.length, 9);
});

test('a device in two reports is an error naming the device and both instances', () => {
  const ins = all((i) => (i === 3 ? { deviceIndexes: [20, ...spec(3).deviceIndexes.slice(1)] } : {}));
  assert.throws(
    () => mergeReports(ins),
    (e: unknown) => {
      assert.ok(e instanceof LabError);
      assert.equal(e.code, 'MERGE_CONFLICT');
      assert.match(e.message, /Device sim-020 is in the reports of both instance 2\/4 and instance 3\/4/);
      assert.match(e.message, /disjoint/);
      return true;
    },
  );
});

test('a missing instance is an error unless --partial; then the outcome is partial', () => {
  const three = all().filter((i) => i.report.instance !== '3/4');
  assert.throws(() => mergeReports(three), /missing instance report 3\/4/);
  const { report, warnings } = mergeReports(three, { allowPartial: true });
  assert.equal(report.outcome, 'partial');
  assert.equal(Object.keys(report.devices).length, 30);
  assert.match(warnings.join('\n'), /covers 3 of 4 slices/);
});

test('the outcome is the worst one and collapse the earliest', () => {
  const ins = all((i) => ({
    ...(i === 2 ? { outcome: 'aborted' as const } : {}),
    ...(i === 3 ? { collapseAtMs: T0 + 4500 } : {}),
    ...(i === 4 ? { collapseAtMs: T0 + 6000 } : {}),
  }));
  const { report } = mergeReports(ins);
  assert.equal(report.outcome, 'aborted');
  assert.equal(report.metrics.collapse?.at, new Date(T0 + 4500).toISOString());
  assert.equal(report.metrics.collapse?.elapsedSec, 4.5);
  assert.match(report.metrics.generator.notes.join('\n'), /instance 3\/4: collapse detected first \(2 of 4/);
  const failed = all((i) => (i === 1 ? { outcome: 'failed' as const } : i === 2 ? { outcome: 'aborted' as const } : {}));
  assert.equal(mergeReports(failed).report.outcome, 'failed');
  const degraded = all((i) => (i === 1 ? { outcome: 'degraded' as const } : {}));
  assert.equal(mergeReports(degraded).report.outcome, 'degraded');
  assert.equal(
    mergeReports(all((i) => (i === 1 ? { outcome: 'degraded' as const } : { outcome: 'aborted' as const }))).report.outcome,
    'aborted',
  );
});

test('inputs that do not belong together are refused with the file named', () => {
  const ins = all();
  const wrongN = [...ins.slice(0, 3), { source: 'runs/x.json', report: instanceReport({ ...spec(4), count: 5 }) }];
  assert.throws(() => mergeReports(wrongN), /runs\/x\.json is 4\/5/);
  const twice = [...ins, { source: 'runs/again.json', report: instanceReport(spec(2)) }];
  assert.throws(() => mergeReports(twice), /runs\/i2\.json and runs\/again\.json are both instance 2\/4/);
  const whole = { ...instanceReport(spec(1)), instance: null };
  assert.throws(() => mergeReports([{ source: 'runs/whole.json', report: whole }]), /runs\/whole\.json .* is not an instance report/);
  const otherFleet = all((i) => (i === 2 ? { config: { deviceCount: 50 } } : {}));
  assert.throws(() => mergeReports(otherFleet), /deviceCount=40 but runs\/i2\.json has 50/);
  const noHist = all();
  noHist[1].report.histograms.ackMs = null;
  assert.throws(() => mergeReports(noHist), /runs\/i2\.json has 500 ackMs samples but no encoded histogram/);
  const merged = mergeReports(all()).report;
  assert.throws(() => mergeReports([{ source: 'runs/m.json', report: merged }]), /already a merged report/);
});

test('settings that differ between instances are reported as warnings', () => {
  const { warnings } = mergeReports(all((i) => (i === 4 ? { config: { qos: 0 } } : {})));
  assert.match(warnings.join('\n'), /different qos: 1 \/ 0/);
});

test('delivery checks: totals summed, devices united, overlap refused', () => {
  const ins = all();
  ins.forEach((inp, k) => {
    const names = Object.keys(inp.report.devices);
    inp.report.delivery = {
      method: 'emulator-stats',
      checkedAt: new Date(T0 + 10_000 + k).toISOString(),
      totals: { sent: 10, acked: 9, stored: 9, lost: 1, duplicates: k, late: 0 },
      devices: Object.fromEntries(names.map((n) => [n, { sent: 1, acked: 1, stored: 1, lost: 0, duplicates: 0, late: 0 }])),
      notes: ['checked'],
    };
  });
  const d = mergeReports(ins).report.delivery!;
  assert.deepEqual(d.totals, { sent: 40, acked: 36, stored: 36, lost: 4, duplicates: 6, late: 0 });
  assert.equal(Object.keys(d.devices).length, FLEET);
  assert.equal(d.method, 'emulator-stats');
  assert.equal(d.checkedAt, new Date(T0 + 10_003).toISOString());
  assert.equal(d.notes.length, 4);
  ins[0].report.delivery!.devices['sim-040'] = ins[3].report.delivery!.devices['sim-040'];
  assert.throws(() => mergeReports(ins), /Device sim-040 is in the reports of both instance 1\/4 and instance 4\/4/);
});

test('merged run id: common prefix of the instance ids, else merged-<start>', () => {
  assert.equal(mergedRunId(['run-20261127-1501-i1of4', 'run-20261127-1501-i2of4'], T0), 'run-20261127-1501-merged');
  assert.equal(mergedRunId(['a1', 'b2'], T0), 'merged-20261127-150000');
  assert.equal(mergedRunId(['t1-i1of2', 't1-i2of2'], T0), 't1-merged', 'a shared RUN_ID names the merged run');
  const { report } = mergeReports(all(), { runId: 'fleet-run' });
  assert.equal(report.runId, 'fleet-run');
  assert.equal(report.metrics.runId, 'fleet-run');
  assert.throws(() => mergeReports(all(), { runId: all()[0].report.runId }), /also an instance's run id/);
});

test("a timeline point's run state is the earliest stage of the instances running then", () => {
  const ins = all();
  ins.forEach((inp) =>
    inp.report.timeline.forEach((p, k, tl) => {
      (p as unknown as Record<string, string>).state = k < 2 ? 'connecting' : k < tl.length - 1 ? 'running' : 'stopping';
    }),
  );
  const tl = mergeReports(ins).report.timeline as unknown as Array<{ state?: string }>;
  // instance 1 drains at T0+6s while 2-4 still run; only instance 4 is left at T0+9s, draining
  assert.deepEqual(
    tl.map((p) => p.state),
    ['connecting', 'connecting', 'connecting', 'connecting', 'connecting', 'running', 'running', 'running', 'stopping'],
  );
  assert.equal(
    (mergeReports(all()).report.timeline[0] as unknown as { state?: string }).state,
    undefined,
    'absent when the instances have none',
  );
});

test('per-endpoint rows merge endpoint by endpoint: counts summed, connect latency from the union of the histograms', () => {
  const K = 3;
  const { report, warnings } = mergeReports(all(() => ({ endpoints: K })));
  assert.deepEqual(warnings, []);
  const ends = report.metrics.endpoints;
  assert.deepEqual(
    ends.map((e) => [e.endpoint, e.devices]),
    // device i on endpoint (i − 1) mod 3, whatever instance ran it: 40 devices → 14, 13, 13
    [
      ['127.0.0.1:1883', 14],
      ['127.0.0.1:1884', 13],
      ['127.0.0.1:1885', 13],
    ],
  );
  for (let e = 0; e < K; e++) {
    const mine = [1, 2, 3, 4].flatMap((i) => {
      const s = spec(i);
      return s.deviceIndexes.flatMap((idx, j) => ((idx - 1) % K === e ? [s.connectMs[j]] : []));
    });
    const merged = ends[e].connectMs;
    assert.equal(merged.count, mine.length);
    withinHdr(merged.p50, exactPercentile(mine, 50), `endpoint ${e} connect p50`);
    withinHdr(merged.max, Math.max(...mine), `endpoint ${e} connect max`);
    assert.equal(ends[e].failed, 4 * e, 'summed over the 4 instances');
    assert.deepEqual(ends[e].disconnects.byCause, e ? { ECONNREFUSED: 4 * e } : {});
    assert.equal(summarize(decodeHistogram(report.histograms.endpointConnectMs![e]!)).count, mine.length);
  }

  // an instance report from before endpoints existed: no per-endpoint rows rather than a part of them
  const mixed = all((i) => (i === 2 ? {} : { endpoints: K }));
  const old = mergeReports(mixed);
  assert.deepEqual(old.report.metrics.endpoints, []);
  assert.match(old.warnings.join('\n'), /instance 2\/4: no per-endpoint numbers \(older report\)/);
});
