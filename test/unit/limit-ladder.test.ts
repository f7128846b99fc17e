// A limit search split over instances, without processes: the shared ladder and its windows, one
// instance's run of it on a scripted clock (waits, late steps skipped, stop after its own failure),
// the shares of each step, and `report merge` of the instances' limit reports (sums, conservative
// objectives, incomplete steps left out, conflicts refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ladderLoads, planLadder, runLadder, type LadderStep } from '../../src/lab/limit/ladder.js';
import { checkSplitFlags, instanceSearch, type LimitSchedule } from '../../src/lab/limit/instances.js';
import { mergeLimitReports } from '../../src/lab/limit/merge.js';
import type { LimitReport } from '../../src/lab/limit/report.js';
import { DEFAULT_SLO, type LimitDriver, type StepMeasurement } from '../../src/lab/limit/index.js';
import { startTime } from '../../src/config/keys-instances.js';
import type { ResolvedConfig } from '../../src/config/index.js';
import type { FleetDevice } from '../../src/common/fleet.js';
import { LabError } from '../../src/common/errors.js';

const T0 = Date.parse('2026-12-02T16:30:00Z');

/** One instance's share of a server saturating at `capacity` msg/s for the whole fleet. */
function share(load: number, total: number, capacity: number, devices = 20): StepMeasurement {
  const over = total > capacity;
  const sent = load * 10;
  return {
    asked: load,
    reached: load,
    sentPerSec: load,
    holdSec: 10,
    devices,
    sent,
    acked: sent,
    lost: 0,
    ackP50Ms: over ? 900 : 5,
    ackP99Ms: over ? 2000 : 20 + total / 100,
    ingestP99Ms: null,
    inFlightStart: 0,
    inFlightEnd: over ? sent / 10 : 0,
    disconnects: 0,
    connectAttempts: devices,
    connectFailures: 0,
    rateLimit: null,
    generator: { verdict: 'ok', scheduleLagP99Ms: 2, shortfall: null },
  };
}

/** A clock that only moves when the ladder waits or a step holds. */
function clock(start: number) {
  let now = start;
  return { now: () => now, wait: async (ms: number) => void (now += ms), advance: (ms: number) => void (now += ms) };
}

const timing = { startAtMs: T0, holdSecAt: () => 10, rampSecAt: () => 2, tailSec: 6, settleSec: 2 };

test('the ladder: the geometric climb to --to, each step in a window every instance computes alike', () => {
  assert.deepEqual(ladderLoads(200, 1000, 2), [200, 400, 800, 1000]);
  const a = planLadder(ladderLoads(200, 1000, 2), timing);
  const b = planLadder(ladderLoads(200, 1000, 2), timing);
  assert.deepEqual(a, b);
  assert.deepEqual(
    a.map((s) => [s.load, (s.startAtMs - T0) / 1000, s.slotSec]),
    [
      [200, 0, 20],
      [400, 20, 20],
      [800, 40, 20],
      [1000, 60, 20],
    ],
  );
});

test("an instance waits for each window, skips a step it reaches late, and stops after its share's first failure", async () => {
  const steps = planLadder([200, 400, 800, 1600], timing);
  const c = clock(T0 - 5000);
  const held: number[] = [];
  const driver: LimitDriver = {
    async runStep(load, hold) {
      held.push(c.now());
      // step 1 overruns its window by 15 s: the instance reaches step 2 late
      c.advance(hold * 1000 + (load === 200 ? 25_000 : 4000));
      return share(load / 2, load, 700);
    },
  };
  const { verdict, outcomes } = await runLadder(driver, {
    vary: 'rate',
    steps,
    slo: DEFAULT_SLO,
    factor: 2,
    shareOfTo: 800,
    now: c.now,
    wait: c.wait,
    aborted: () => false,
  });
  assert.deepEqual(held, [T0, T0 + 40_000], 'held at the windows of step 1 and step 3');
  assert.deepEqual(
    outcomes.map((o) => o.state),
    ['judged', 'skipped', 'judged', 'not-run'],
  );
  assert.equal(outcomes[1].lateMs, 15_000);
  assert.equal(outcomes[2].spareSec, 20 - 14, 'measured 14 s into a 20 s slot');
  assert.deepEqual(
    verdict.steps.map((s) => [s.asked, s.passed]),
    [
      [100, true],
      [400, false],
    ],
  );
  assert.equal(verdict.outcome, 'found');
  assert.equal(verdict.steps.filter((s) => s.retried).length, 0, 'no retry on a fixed schedule');
});

const cfg = (over: Partial<Record<string, unknown>> = {}) =>
  ({
    instance: { index: 1, count: 2 },
    runId: 'lim-7',
    limitStartAt: T0,
    connectRate: 0,
    drainTimeoutMs: 2000,
    deliveryCheck: false,
    deliverySettleSec: 10,
    publishIntervalSec: 1,
    dataDir: '/nonexistent-tblab-data',
    ...over,
  }) as unknown as ResolvedConfig;
const fleet = (n: number): FleetDevice[] => Array.from({ length: n }, (_, i) => ({ name: `sim-${i + 1}` }) as FleetDevice);

test('instance shares: a slice of the fleet at the whole publish interval, a slice of the devices, a share of the connect rate', () => {
  const o = { from: 200, to: 800, factor: 2, stepHoldSec: 5, settleSec: 1 };
  const sum = (f: (i: number) => number) => f(1) + f(2);
  const of = (vary: 'rate' | 'devices' | 'connect-rate', i: number, n = 41) =>
    instanceSearch(cfg({ instance: { index: i, count: 2 } }), fleet(n), { ...o, vary }, T0).schedule();
  const rate = [of('rate', 1), of('rate', 2)];
  assert.deepEqual(
    rate[0].steps,
    rate[1].steps.map((s, k) => ({ ...s, share: rate[0].steps[k].share, runId: null })),
  );
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(sum((i) => rate[i - 1].steps[k].share) - rate[0].steps[k].load) < 0.02);
  assert.equal(rate[0].sliceDevices + rate[1].sliceDevices, 41);
  // DRAIN 2 s + overhead 2 s (no delivery check); ramp 1 s; hold 5; settle 1
  assert.equal(rate[0].steps[0].slotSec, 1 + 5 + 4 + 1);
  const dev = [of('devices', 1, 800), of('devices', 2, 800)];
  assert.deepEqual(
    dev[0].steps.map((s, k) => s.share + dev[1].steps[k].share),
    [200, 400, 800],
  );
  const conn = instanceSearch(cfg(), fleet(100), { ...o, from: 20, to: 80, vary: 'connect-rate' }, T0).schedule();
  assert.deepEqual(
    conn.steps.map((s) => [s.share, s.slotSec]),
    [
      // ramp: 50 devices at 10, 20, 40 connects/s, + 1 s
      [10, 6 + 5 + 4 + 1],
      [20, 4 + 5 + 4 + 1],
      [40, 3 + 5 + 4 + 1],
    ],
  );
});

test('a split search without RUN_ID or start, with a start long past, or too small a first step is refused', () => {
  const o = { vary: 'rate' as const, from: 200, to: 800, factor: 2, stepHoldSec: 5 };
  const bad =
    (re: RegExp, code = 'CONFIG_INVALID') =>
    (e: unknown) =>
      e instanceof LabError && e.code === code && re.test(e.message);
  assert.throws(() => instanceSearch(cfg({ runId: undefined }), fleet(40), o, T0), bad(/needs RUN_ID/));
  assert.throws(() => instanceSearch(cfg({ limitStartAt: undefined }), fleet(40), o, T0), bad(/needs LIMIT_START_AT/));
  assert.throws(() => instanceSearch(cfg(), fleet(40), o, T0 + 3_600_000), bad(/is past/));
  assert.throws(
    () => instanceSearch(cfg(), fleet(40), { ...o, vary: 'devices', from: 1, to: 8 }, T0),
    bad(/leaves an instance with 0/, 'USAGE'),
  );
  const none = cfg({ instance: undefined });
  assert.throws(() => checkSplitFlags(none, {}, false), bad(/needs --instance/, 'USAGE'));
  assert.doesNotThrow(() => checkSplitFlags({ ...none, limitStartAt: undefined } as ResolvedConfig, {}, false));
  assert.throws(() => checkSplitFlags(cfg(), {}, true), bad(/--embedded/, 'USAGE'));
  // a Kubernetes Indexed Job's pod is an instance too
  const pod = cfg({ instance: undefined, instanceCount: 2, runId: undefined });
  assert.throws(() => checkSplitFlags(pod, { JOB_COMPLETION_INDEX: '1' }, false), bad(/--instance 2\/2 needs RUN_ID/));
  const parse = (v: string) => startTime.safeParse(v);
  assert.equal(parse('1796229000').data, 1796229000 * 1000);
  assert.equal(parse('2026-12-02T16:30:00Z').data, T0);
  assert.equal(parse('2026-12-02T17:30:00+01:00').data, T0);
  assert.equal(parse('').data, undefined);
  assert.equal(parse('2026-12-02T16:30:00').success, false, 'a time without a zone means different instants on different machines');
});

/** The limit report of instance i/2 after running `steps` of a 3-step ladder against `capacity`. */
async function instanceReport(i: number, capacity: number, o: { skip?: number; failAt?: number } = {}): Promise<LimitReport> {
  const steps: LadderStep[] = planLadder([200, 400, 800], timing);
  const c = clock(T0);
  const driver: LimitDriver = {
    async runStep(load, hold) {
      c.advance(hold * 1000);
      const m = share(load / 2, load, capacity);
      // a backlog that grows 1.5 % in this share: 0.75 % over both shares, within the 1 % bound
      return o.failAt === load ? { ...m, inFlightEnd: m.sent * 0.015 } : m;
    },
  };
  const { verdict, outcomes } = await runLadder(driver, {
    vary: 'rate',
    steps: o.skip === undefined ? steps : steps.map((s) => (s.index === o.skip ? { ...s, startAtMs: s.startAtMs - 60_000 } : s)),
    slo: DEFAULT_SLO,
    factor: 2,
    shareOfTo: 400,
    now: c.now,
    wait: c.wait,
    aborted: () => false,
  });
  const schedule: LimitSchedule = {
    runId: 'lim-7',
    instance: `${i}/2`,
    startAt: new Date(T0).toISOString(),
    fleetDevices: 40,
    sliceDevices: 20,
    from: 200,
    to: 800,
    factor: 2,
    tailSec: 6,
    settleSec: 2,
    steps: steps.map(({ startAtMs, ...s }, k) => ({
      ...s,
      ...outcomes[k],
      startAt: new Date(startAtMs).toISOString(),
      share: s.load / 2,
      runId: outcomes[k].state === 'judged' ? `lim-7-step${k + 1}-i${i}of2` : null,
    })),
  };
  return {
    tool: 'tb-load-lab',
    kind: 'limit',
    schemaVersion: 1,
    limitId: `limit-lim-7-i${i}of2`,
    startedAt: new Date(T0 - 1000).toISOString(),
    endedAt: new Date(c.now()).toISOString(),
    aborted: false,
    target: { tbUrl: 'http://127.0.0.1:8080', mqtt: '127.0.0.1:1883', embedded: false },
    setup: { devices: 20, qos: 1, shards: 1, publishIntervalSec: 1, connectRate: 0 },
    stepRuns: verdict.steps.map((_, k) => `lim-7-step${k + 1}-i${i}of2`),
    limit: verdict,
    schedule,
  };
}

test('report merge of a split search: loads add up, an objective any share failed fails the step, the verdict is the fleet’s', async () => {
  const a = await instanceReport(1, 600);
  const b = await instanceReport(2, 600);
  const { report, warnings } = mergeLimitReports([
    { source: 'b.json', report: b },
    { source: 'a.json', report: a },
  ]);
  assert.deepEqual(warnings, []);
  assert.equal(report.limitId, 'limit-lim-7-merged');
  assert.deepEqual(report.mergedFrom, ['limit-lim-7-i1of2', 'limit-lim-7-i2of2'], 'in instance order');
  const v = report.limit;
  assert.deepEqual(
    v.steps.map((s) => [s.asked, s.sentPerSec, s.measurement.sent, s.passed]),
    [
      [200, 200, 2000, true],
      [400, 400, 4000, true],
      [800, 800, 8000, false],
    ],
  );
  assert.equal(v.outcome, 'found');
  assert.equal(v.sustained, 400);
  assert.equal(v.brokeAt, 800);
  assert.equal(v.tier, 'server-saturation');
  assert.equal(report.setup.devices, 40);
  assert.match(v.sentence, /sustained 400 msg\/s from 40 devices/);

  // one share's backlog grew at 400: the fleet's step 400 fails although the sum stays within the bound
  const lossy = await instanceReport(2, 600, { failAt: 400 });
  const mm = mergeLimitReports([
    { source: 'a.json', report: a },
    { source: 'b.json', report: lossy },
  ]);
  const m = mm.report.limit;
  assert.equal(m.brokeAt, 400);
  assert.equal(m.sustained, 200);
  const backlog = m.steps[1].objectives.find((o) => o.name === 'backlog_growth')!;
  assert.equal(backlog.verdict, 'fail');
  assert.ok(backlog.value! < 0.01, `merged ${backlog.value}`);
  assert.match(backlog.text, /\(instance 2\/2\)/);
  // instance 1 judged 800 alone after instance 2 stopped: incomplete, left out of the verdict
  assert.equal(mm.report.instances!.steps[2].state, 'incomplete');
  assert.match(mm.warnings.join(), /800 not judged by every instance/);
});

test('report merge refuses reports of different searches, a missing instance (unless partial) and one given twice', async () => {
  const a = await instanceReport(1, 600);
  const b = await instanceReport(2, 600);
  const conflict = (re: RegExp) => (e: unknown) => e instanceof LabError && e.code === 'MERGE_CONFLICT' && re.test(e.message);
  const merge = (...reports: LimitReport[]) => mergeLimitReports(reports.map((report, k) => ({ source: `r${k}`, report })));
  assert.throws(() => merge(a, { ...b, schedule: { ...b.schedule!, runId: 'lim-8' } }), conflict(/RUN_ID/));
  assert.throws(() => merge(a), conflict(/missing the limit report of instance 2\/2/));
  assert.throws(() => merge(a, a), conflict(/given twice/));
  const partial = mergeLimitReports([{ source: 'a', report: a }], { allowPartial: true });
  assert.equal(partial.report.limit.steps[0].asked, 100, 'partial: the load of the instances given');
  assert.throws(() => merge({ ...a, schedule: undefined }), conflict(/not the limit report of an instance/));
});
