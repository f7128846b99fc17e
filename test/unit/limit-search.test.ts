// The limit search core against a scripted server model: planning (climb, bisect, resolution),
// judging with the SLO, tiers, the transient retry, the lab's own limit, and the verdict sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  StepPlanner,
  defaultStepHold,
  runLimitSearch,
  parseSlo,
  DEFAULT_SLO,
  LIMIT_EXIT,
  rateLimitOfStep,
  type StepMeasurement,
  type LimitDriver,
  type LimitOptions,
} from '../../src/lab/limit/index.js';
import { LabError } from '../../src/common/errors.js';
import { STEP_METRICS } from '../../src/lab/limit/slo.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/common/version.js';

/** A saturating server as a formula: FIFO at `capacity` msg/s with a queue of `queueSec` seconds. */
interface Model {
  capacity: number;
  devices?: number;
  queueSec?: number;
  /** Tenant rate limit: above it messages are refused and sessions closed. */
  rateLimit?: number;
  /** The most the generator can send; above it the schedule lags. */
  generatorMax?: number;
  /** Storing completes this many msg/s; PUBACKs stay fast. */
  storage?: number;
  /** Loads whose first attempt suffers one stall (then recovers). */
  stallOnce?: Set<number>;
}

function scripted(model: Model): LimitDriver & { calls: Array<{ load: number; hold: number }>; settles: number } {
  const devices = model.devices ?? 1000;
  const queueSec = model.queueSec ?? 5;
  const stalled = new Set<number>();
  const calls: Array<{ load: number; hold: number }> = [];
  const driver = {
    calls,
    settles: 0,
    async settle() {
      driver.settles++;
    },
    async runStep(load: number, hold: number): Promise<StepMeasurement> {
      calls.push({ load, hold });
      const sentPerSec = Math.min(load, model.generatorMax ?? Infinity);
      const sent = sentPerSec * hold;
      const over = Math.max(0, sentPerSec - model.capacity);
      const backlog = over * hold;
      const queued = Math.min(backlog, model.capacity * queueSec);
      let ackP99Ms = 15 + 200 * (sentPerSec / model.capacity) ** 6;
      if (over > 0) ackP99Ms = Math.max(ackP99Ms, (queued / model.capacity) * 1000);
      let lost = Math.max(0, backlog - queued);
      let disconnects = 0;
      let rateLimit: StepMeasurement['rateLimit'] = null;
      if (model.rateLimit !== undefined && sentPerSec > model.rateLimit) {
        rateLimit = { name: 'transportTenantMsgRateLimit', value: `${model.rateLimit}:1` };
        lost += (sentPerSec - model.rateLimit) * hold;
        disconnects = Math.round(devices * 0.2);
      }
      const ingestP99Ms = model.storage !== undefined && sentPerSec > model.storage ? 20_000 : 40;
      const lagging = model.generatorMax !== undefined && load > model.generatorMax;
      const secs = Array.from({ length: hold }, (_, i) => ({ ackP99Ms, inFlight: Math.min(over * (i + 1), queued), disconnects: 0 }));
      let stallAck = ackP99Ms;
      if (model.stallOnce?.has(load) && !stalled.has(load)) {
        stalled.add(load);
        for (let i = 2; i < 5; i++) secs[i] = { ackP99Ms: 3000, inFlight: 200, disconnects: 0 };
        stallAck = 3000;
      }
      return {
        asked: load,
        reached: sentPerSec,
        sentPerSec,
        holdSec: hold,
        devices,
        sent,
        acked: sent - lost,
        lost,
        ackP50Ms: ackP99Ms / 3,
        ackP99Ms: stallAck,
        ingestP99Ms,
        inFlightStart: 0,
        inFlightEnd: queued,
        disconnects,
        connectAttempts: devices,
        connectFailures: 0,
        rateLimit,
        generator: lagging
          ? { verdict: 'overloaded', scheduleLagP99Ms: 1800, shortfall: 'schedule-lag' }
          : { verdict: 'ok', scheduleLagP99Ms: 3, shortfall: null },
        seconds: secs,
      };
    },
  };
  return driver;
}

const base: LimitOptions = { vary: 'rate', from: 500, to: 20_000, stepHoldSec: 20, settleSec: 0 };

test('the planner climbs geometrically to --to, then bisects to the resolution', () => {
  const p = new StepPlanner({ from: 100, to: 1000, factor: 2, resolution: 0.05 });
  const seen: number[] = [];
  const limit = 700;
  for (let l = p.next(); l !== null; l = p.next()) {
    seen.push(l);
    p.record(l, l <= limit);
  }
  assert.deepEqual(seen.slice(0, 5), [100, 200, 400, 800, 600]);
  assert.ok(p.lastGood! <= limit && p.firstBad! > limit);
  assert.ok((p.firstBad! - p.lastGood!) / p.lastGood! <= 0.05, `${p.lastGood}..${p.firstBad}`);
  const all = new StepPlanner({ from: 100, to: 1000 });
  const climbed: number[] = [];
  for (let l = all.next(); l !== null; l = all.next()) {
    climbed.push(l);
    all.record(l, true);
  }
  assert.deepEqual(climbed, [100, 200, 400, 800, 1000], 'the last climbing step is --to itself');
  const none = new StepPlanner({ from: 100, to: 1000 });
  none.record(100, false);
  assert.equal(none.next(), null, 'a failed first step ends the search');
});

test('bad ranges and objectives are usage errors naming the flag or docs/limit.md', () => {
  const usage = (re: RegExp) => (e: unknown) => e instanceof LabError && e.code === 'USAGE' && re.test(e.message);
  assert.throws(() => new StepPlanner({ from: 500, to: 100 }), usage(/--to/));
  assert.throws(() => new StepPlanner({ from: 1, to: 100, resolution: 0 }), /--resolution/);
  assert.throws(
    () => parseSlo(['ack_p99 < 1 parsec']),
    (e: unknown) => e instanceof LabError && e.code === 'THRESHOLDS_INVALID',
  );
  assert.throws(() => parseSlo(['ack_p100 < 1s']), /did you mean ack_p50 or ack_p99.*docs\/limit\.md|docs\/limit\.md/s);
  assert.throws(() => parseSlo(['lost < 0.01*devices']), /cannot scale with devices/);
  assert.equal(parseSlo(DEFAULT_SLO).length, 6);
});

test('the default step hold is a few publish intervals and at least 20 s', () => {
  assert.equal(defaultStepHold(1), 20);
  assert.equal(defaultStepHold(10), 30);
  assert.equal(defaultStepHold(60), 180);
});

test('a saturating server at 3,000 msg/s: found within the resolution, server saturation, the knee in the steps', async () => {
  const driver = scripted({ capacity: 3000 });
  const v = await runLimitSearch(driver, base);
  assert.equal(v.outcome, 'found');
  assert.equal(v.exitCode, 0);
  assert.ok(v.sustainedPerSec! <= 3000 && v.sustainedPerSec! >= 3000 * 0.95, `sustained ${v.sustainedPerSec}`);
  assert.ok(v.brokeAt! > 3000 && (v.brokeAt! - v.sustained!) / v.sustained! <= 0.05, `broke at ${v.brokeAt}`);
  assert.equal(v.tier, 'server-saturation');
  // just above the capacity the backlog grows before PUBACK p99 crosses 1 s
  assert.equal(v.firstBroken, 'backlog_growth');
  const asked = v.steps.map((s) => s.asked);
  assert.deepEqual(asked.slice(0, 4), [500, 1000, 2000, 4000], 'climbs ×2 until the first failure');
  assert.ok(v.steps.slice(4).every((s) => s.phase === 'bisect' && s.asked > 2000 && s.asked < 4000));
  assert.equal(driver.calls.length, v.steps.length, 'every step ran once: nothing retried');
  assert.equal(driver.settles, v.steps.length - 1, 'the server settles between steps');
  assert.ok(driver.calls.every((c) => c.hold === 20));
  const at4000 = v.steps.find((s) => s.asked === 4000)!;
  const texts = at4000.objectives.filter((o) => o.verdict === 'fail').map((o) => o.text);
  assert.deepEqual(texts, ['PUBACK p99 5 s ≥ 1 s', 'in-flight backlog growing (19% of sent)', '5,000 lost']);
  assert.match(v.sentence, /^sustained [\d,]+ msg\/s from 1,000 devices: PUBACK p99 \d+ ms, ingest p99 40 ms, 0 lost; /);
  assert.match(v.sentence, /; failed at [\d,]+ msg\/s: /);
  assert.match(v.sentence, /in-flight backlog growing \([\d.]+% of sent\) — server saturation/);
  assert.match(v.sentence, /first sign at [\d,]+ msg\/s/);
  assert.ok(v.firstSignAt! < v.brokeAt!);
});

test('a tenant rate limit below the capacity is named with its value', async () => {
  const v = await runLimitSearch(scripted({ capacity: 5000, rateLimit: 2000 }), base);
  assert.equal(v.tier, 'rate-limit');
  assert.deepEqual(v.rateLimit, { name: 'transportTenantMsgRateLimit', value: '2000:1' });
  assert.ok(v.sustained! <= 2000 && v.sustained! >= 1900);
  assert.match(v.sentence, /rate limit transportTenantMsgRateLimit 2000:1/);
  assert.equal(v.firstBroken, 'disconnect_ratio');
});

test('storage lag: ingest slows while PUBACKs stay fast', async () => {
  const v = await runLimitSearch(scripted({ capacity: 10_000, storage: 1200 }), base);
  assert.equal(v.tier, 'storage-lag');
  assert.equal(v.firstBroken, 'ingest_p99');
  assert.ok(v.sustained! <= 1200 && v.sustained! >= 1140);
});

test("a starved generator: the search stops and says the limit is the lab's, with the remedy", async () => {
  const v = await runLimitSearch(scripted({ capacity: 3000, generatorMax: 1500 }), base);
  assert.equal(v.outcome, 'lab-limit');
  assert.equal(v.exitCode, LIMIT_EXIT['lab-limit']);
  assert.equal(v.tier, 'generator');
  assert.equal(v.brokeAt, 2000);
  assert.equal(v.steps.length, 3, 'no bisection on a step the lab could not produce');
  assert.match(v.sentence, /^the lab could not produce 2,000 msg\/s \(schedule-lag, schedule lag p99 1,800 ms\): this is the lab's limit/);
  assert.match(v.remedy!, /SHARDS/);
  assert.doesNotMatch(v.sentence, /server saturation/);
});

test('one stall is retried once and does not count; saturation is not retried', async () => {
  const driver = scripted({ capacity: 3000, stallOnce: new Set([1000]) });
  const v = await runLimitSearch(driver, base);
  const at1000 = v.steps.filter((s) => s.asked === 1000);
  assert.deepEqual(
    at1000.map((s) => [s.retried, s.passed]),
    [
      [true, false],
      [false, true],
    ],
  );
  assert.equal(v.steps.filter((s) => s.retried).length, 1);
  assert.equal(v.outcome, 'found');
  assert.ok(v.sustained! >= 2850 && v.sustained! <= 3000);
});

test('the whole range passing and the first step failing have their own exit codes', async () => {
  const above = await runLimitSearch(scripted({ capacity: 50_000 }), base);
  assert.equal(above.outcome, 'above-range');
  assert.equal(above.exitCode, 8);
  assert.equal(above.sustained, 20_000);
  assert.match(above.sentence, /every step up to 20,000 msg\/s passed: the limit is above --to/);
  const below = await runLimitSearch(scripted({ capacity: 200 }), base);
  assert.equal(below.outcome, 'below-range');
  assert.equal(below.exitCode, 9);
  assert.equal(below.sustained, null);
  assert.equal(below.steps.length, 1);
  assert.match(below.sentence, /^failed at 500 msg\/s: .*the limit is below --from/);
});

test('a stricter objective finds a lower limit; onStep sees every step live', async () => {
  const seen: number[] = [];
  const slo = ['ack_p99 < 100ms', 'lost == 0'];
  const v = await runLimitSearch(scripted({ capacity: 3000 }), { ...base, slo, onStep: (s) => seen.push(s.asked) });
  assert.deepEqual(
    seen,
    v.steps.map((s) => s.asked),
  );
  // 15 + 200·(L/3000)^6 < 100 ⇔ L < 3000·0.425^(1/6) ≈ 2,597
  assert.ok(v.sustained! < 2600 && v.sustained! >= 2470, `sustained ${v.sustained}`);
  assert.deepEqual(v.slo, ['ack_p99 < 100ms', 'lost == 0']);
});

test('docs/limit.md documents every step metric and the default SLO', () => {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs/limit.md'), 'utf8');
  for (const name of Object.keys(STEP_METRICS)) assert.ok(doc.includes(`\`${name}`), `docs/limit.md lacks ${name}`);
  for (const x of DEFAULT_SLO) assert.ok(doc.includes(`| \`${x}\` |`), `docs/limit.md lacks the default objective ${x}`);
});

test("a step's rate limit is named from the lab's attribution pattern, its value from what got through", () => {
  const section = (pattern: string | null, count = 3) => ({ events: [], pattern, firstAt: null, advice: null, count });
  assert.equal(rateLimitOfStep(null, 400, 100), null);
  assert.equal(rateLimitOfStep(section('tenant-wide: …', 0), 400, 100), null, 'no events, no limit');
  // no points after the first refusal: what got through over the whole step, an upper bound
  assert.deepEqual(rateLimitOfStep(section('tenant-wide: 40 of 100 devices were cut off'), 401.6, 100), {
    name: 'transportTenantMsgRateLimit',
    value: '≈ 402 msg/s',
    perSec: 401.6,
    basis: 'msg/s accepted over the whole step: an upper bound, the bucket started full',
  });
  assert.deepEqual(rateLimitOfStep(section('per device: 100 of 100 devices were cut off'), 500, 100), {
    name: 'transportDeviceMsgRateLimit',
    value: '≈ 5 msg/s per device',
  });
});
