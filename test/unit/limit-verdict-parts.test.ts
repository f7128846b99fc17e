// The parts of a limit verdict around the search itself: ThingsBoard's own statistics per step and
// at the step that broke (server-triage.ts), a rate limit's value from the bucket's refill
// (rate-limit.ts), and the starved generator (starved.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  runLimitSearch,
  rateLimitOfStep,
  refillRate,
  bestRateLimit,
  type LimitDriver,
  type LimitOptions,
  type LimitStep,
  type StepMeasurement,
} from '../../src/lab/limit/index.js';
import { renderLimitReport, type LimitReport } from '../../src/lab/limit/report.js';
import { generatorShortOf } from '../../src/lab/limit/starved.js';

const base: LimitOptions = { vary: 'rate', from: 500, to: 20_000, stepHoldSec: 20, settleSec: 0 };

/** A server that acknowledges up to 4,000 msg/s at once and piles up the rest (PUBACK p99 3 s). */
function saturating(load: number, hold: number): StepMeasurement {
  const over = load > 4000;
  const sent = load * hold;
  return {
    asked: load,
    reached: load,
    sentPerSec: load,
    holdSec: hold,
    devices: 1000,
    sent,
    acked: sent,
    lost: 0,
    ackP50Ms: over ? 1000 : 5,
    ackP99Ms: over ? 3000 : 15,
    ingestP99Ms: 40,
    inFlightStart: 0,
    inFlightEnd: over ? (load - 4000) * hold : 0,
    disconnects: 0,
    connectAttempts: 1000,
    connectFailures: 0,
    rateLimit: null,
    generator: { verdict: 'ok', scheduleLagP99Ms: 3, shortfall: null },
  };
}

test("a tenant rate limit's value is the bucket's refill after the first refusal, not what a full bucket let through", () => {
  const section = (pattern: string | null, count = 3) => ({ events: [], pattern, firstAt: null, advice: null, count });
  // the full bucket let 3,000 msg/s through for 2 s; from the first refusal on, acks are the refill (2,000/s)
  const t0 = 1_700_000_000_000;
  const series = [3000, 3000, 2100, 2000, 2010, 1990, 2000, 400].map((acked, k) => ({
    ts: t0 + (k + 1) * 1000,
    sentPerSec: k === 7 ? 500 : 3000,
    ackedPerSec: acked,
  }));
  const refilled = { ...section('tenant-wide: 100 of 100 devices were cut off'), firstAt: t0 + 2300 };
  const r = rateLimitOfStep(refilled, 2400, 100, series)!;
  assert.equal(r.value, '≈ 2,000 msg/s', JSON.stringify(r));
  assert.equal(r.refillSec, 3, 'the points from 2 s after the first refusal while still sending');
  assert.equal(refillRate(series, null), null);
  assert.equal(refillRate(series.slice(0, 5), t0 + 2300), null, 'one point after the refusal is too few');
  // a step just above the limit refuses only at its end: the verdict takes the refill of a higher failed step
  const step = (asked: number, rateLimit: StepMeasurement['rateLimit']) =>
    ({ asked, passed: false, retried: false, measurement: { rateLimit } }) as unknown as LimitStep;
  const justAbove = step(2250, rateLimitOfStep(refilled, 2240, 100));
  const higher = step(4000, r);
  assert.equal(bestRateLimit(justAbove, [justAbove, higher])!.value, '≈ 2,000 msg/s');
  assert.match(bestRateLimit(justAbove, [justAbove, higher])!.basis!, /at a higher step$/);
  assert.equal(bestRateLimit(justAbove, [justAbove])!.value, '≈ 2,240 msg/s', 'no better estimate: the upper bound');
});

test("ThingsBoard's own statistics: each step's triage in the table, the broken step's in the verdict and under it", async () => {
  const driver: LimitDriver = {
    runStep: async (load, hold) => {
      const m = saturating(load, hold);
      const behind = load > 4000;
      const server = {
        tier: behind ? ('transport' as const) : ('none' as const),
        evidence: [
          behind ? `apiUsage.transportMsgCount fell behind lab.sent at ${load}` : 'apiUsage.transportMsgCount kept pace with lab.sent',
        ],
        notVisible: ['system info (CPU, memory): ThingsBoard answered 403 to this user'],
      };
      return { ...m, server };
    },
  };
  const v = await runLimitSearch(driver, base);
  const broke = v.steps.find((s) => s.asked === v.brokeAt && !s.retried)!;
  assert.deepEqual(v.server, { step: broke.index, asked: broke.asked, ...broke.measurement.server! });
  assert.equal(v.server!.tier, 'transport');
  assert.match(v.sentence, /; ThingsBoard's own statistics there: transport \(the transport fell behind first\)$/);
  const text = renderLimitReport({ limit: v, limitId: 'limit-x', aborted: false, setup: { devices: 1000, qos: 1 } } as LimitReport, 'f');
  assert.match(text, /verdict\s+ThingsBoard\n/);
  assert.equal(
    text.split('\n').filter((l) => /\bFAIL \(server-saturation\)\s+transport$/.test(l)).length,
    v.steps.filter((s) => !s.passed).length,
  );
  assert.ok(
    text.includes(
      `ThingsBoard's own statistics at ${broke.asked.toLocaleString('en-US')} msg/s (step ${broke.index + 1}): transport (the transport fell behind first)\n` +
        `  apiUsage.transportMsgCount fell behind lab.sent at ${broke.asked}\n` +
        '  not visible: system info (CPU, memory): ThingsBoard answered 403 to this user\n',
    ),
    text,
  );
  // without the statistics (SERVER_STATS=0, an older report): no column, no lines, no clause
  const plain = await runLimitSearch({ runStep: async (load, hold) => saturating(load, hold) }, base);
  assert.equal(plain.server, null);
  assert.doesNotMatch(
    renderLimitReport({ limit: plain, limitId: 'limit-y', aborted: false, setup: { devices: 1000, qos: 1 } } as LimitReport, 'f'),
    /ThingsBoard/,
  );
});

test('a starved generator: sent under 90 % of its schedule while behind, not held back by the server', () => {
  const metrics = (verdict: 'ok' | 'lagging' | 'overloaded') => ({
    target: { mqtt: '', rest: null, qos: 1 as const, mqttVersion: '3.1.1', publishIntervalSec: 0.1 },
    generator: { verdict, eventLoopDelayP99Ms: null, scheduleLagP99Ms: null, cpuPercent: null, rssMB: 0, notes: [] },
  });
  // 100 devices every 0.1 s: 1,000 msg/s scheduled
  const input = { metrics: metrics('lagging'), sentPerSec: 600, devices: 100, inFlightEnd: 10, disconnects: 0 };
  assert.deepEqual(generatorShortOf(input), { scheduledPerSec: 1000, short: true });
  assert.equal(generatorShortOf({ ...input, sentPerSec: 950 }).short, false, 'within 90 % of the schedule');
  assert.equal(
    generatorShortOf({ ...input, metrics: metrics('ok') }).short,
    false,
    'the generator kept its schedule: the server held it back',
  );
  assert.equal(generatorShortOf({ ...input, inFlightEnd: 100 * 40 }).short, false, 'QoS 1 windows filling: PUBACKs held it back');
  assert.equal(generatorShortOf({ ...input, disconnects: 5 }).short, false, 'sessions cut by the server');
  assert.equal(generatorShortOf({ ...input, inFlightEnd: null }).short, true, 'QoS 0');
});
