// The limit search backed by real runs: one engine run per step (src/engine/supervisor.ts) against
// the emulator with --capacity; the search must find the capacity and name server saturation.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../helpers/emulator.js';
import { emulatorFleet, startRun, testConfig } from '../helpers/engine.js';
import {
  measureRunStep, rateLimitOfStep, runLimitSearch, sampleOf, type LimitDriver, type LiveSample, type LimitStep,
} from '../../src/lab/limit/index.js';
import { attributeRateLimits } from '../../src/lab/delivery/rate-limit.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';

const CAPACITY = Number(process.env.LIMIT_TEST_CAPACITY ?? 800);
const DEVICES = 100;
const HOLD_SEC = Number(process.env.LIMIT_TEST_HOLD_SEC ?? 8);
// 800 msg/s keeps the test near 2 minutes on 2 shared cores; LIMIT_TEST_CAPACITY=3000 LIMIT_TEST_SHARDS=2 is the figure

async function emulatorDriver(t: TestContext, emuOpts: EmulatorOptions) {
  const emu = await startEmulator(t, emuOpts);
  const fleet = await emulatorFleet(emu.restUrl, DEVICES);
  const queueEmpty = async () => {
    const queued = () => emu.stats({ perDevice: false }).capacity?.queued ?? 0;
    for (let i = 0; i < 200 && queued() > 0; i++) await new Promise((r) => setTimeout(r, 50));
  };
  const driver: LimitDriver = {
    async settle(seconds) {
      await queueEmpty();
      await new Promise((r) => setTimeout(r, seconds * 1000));
    },
    async runStep(load, holdSec) {
      const storedBefore = emu.stats({ perDevice: false }).messages;
      const config = testConfig(t, {
        MQTT_PORT: emu.mqttPort, TB_URL: emu.restUrl, MQTT_QOS: 1, SHARDS: Number(process.env.LIMIT_TEST_SHARDS ?? 1),
        DURATION_SEC: holdSec + 2, PUBLISH_INTERVAL_SEC: DEVICES / load, ACK_TIMEOUT_MS: 8000, DRAIN_TIMEOUT_MS: 8000,
      });
      const samples: LiveSample[] = [];
      const run = startRun(t, { config, fleet, writeFiles: false });
      run.on('snapshot', (s) => samples.push(sampleOf(s)));
      const r = await run.done;
      await queueEmpty();
      // delivery truth: what the emulator stored of what this step sent
      const stored = emu.stats({ perDevice: false }).messages - storedBefore;
      const m = measureRunStep({ vary: 'rate', asked: load, metrics: r.metrics, samples, lost: r.metrics.traffic.sent - stored });
      // the lab's own attribution of rate-limit closes, as a run report has it
      const section = attributeRateLimits({
        devices: r.devices, intervalSec: DEVICES / load, peakSentPerSec: m.sentPerSec, rest429: { count: 0, firstAt: null },
      });
      const sent = r.metrics.traffic.sent;
      return { ...m, rateLimit: rateLimitOfStep(section, sent > 0 ? (m.sentPerSec * stored) / sent : 0, m.devices) };
    },
  };
  return { emu, driver };
}

function table(steps: readonly LimitStep[]): string {
  const verdict = (s: LimitStep) => `${s.passed ? 'pass' : 'FAIL'}${s.retried ? ' (retried)' : ''}`;
  const head = (s: LimitStep) => `${s.phase} ${s.asked} asked, ${s.reached}/s reached ${verdict(s)}`;
  return steps.map((s) => `${head(s)}: `
    + s.objectives.map((o) => `${o.name}=${o.value === null ? '-' : +o.value.toFixed(3)}`).join(' ')).join('\n');
}

const title = `real runs against --capacity ${CAPACITY}: the search finds it within 10 % and names server saturation`;
test(title, { timeout: 600_000 }, async (t) => {
  const { emu, driver } = await emulatorDriver(t, { capacity: CAPACITY });
  const started = Date.now();
  const range = { from: CAPACITY / 4, to: CAPACITY * 4 };
  const v = await runLimitSearch(driver, { vary: 'rate', ...range, resolution: 0.1, stepHoldSec: HOLD_SEC, settleSec: 1 });
  t.diagnostic(`${Math.round((Date.now() - started) / 1000)} s, ${v.steps.length} steps\n${table(v.steps)}\n${v.sentence}`);
  assert.equal(v.outcome, 'found', v.sentence);
  assert.ok(Math.abs(v.sustainedPerSec! - CAPACITY) <= CAPACITY * 0.1, `sustained ${v.sustainedPerSec} msg/s vs capacity ${CAPACITY}`);
  assert.equal(v.tier, 'server-saturation');
  assert.ok(v.brokeAt! > CAPACITY * 0.95);
  const cap = emu.stats({ perDevice: false }).capacity!;
  assert.ok(cap.delayed > 0 && cap.maxWaitMs >= 1000, `the model queued work: ${JSON.stringify(cap)}`);
  for (const s of v.steps.filter((x) => x.passed)) {
    assert.equal(s.measurement.lost, 0, `a passing step lost nothing (${s.asked})`);
    assert.ok(s.reached >= s.asked * 0.9, `a passing step reached its load: ${s.reached} of ${s.asked}`);
  }
});

test('real runs against a tenant rate limit of 400 msg/s: the verdict names the limit and its value', { timeout: 600_000 }, async (t) => {
  const { driver } = await emulatorDriver(t, { rateLimits: { tenant: '400:1' } });
  const v = await runLimitSearch(driver, { vary: 'rate', from: 100, to: 1600, resolution: 0.1, stepHoldSec: HOLD_SEC, settleSec: 1 });
  t.diagnostic(`${v.steps.length} steps\n${table(v.steps)}\n${v.sentence}`);
  assert.equal(v.outcome, 'found', v.sentence);
  assert.equal(v.tier, 'rate-limit');
  assert.equal(v.rateLimit?.name, 'transportTenantMsgRateLimit');
  const value = Number(/≈ ([\d,]+) msg\/s/.exec(v.rateLimit!.value)![1].replace(/,/g, ''));
  assert.ok(Math.abs(value - 400) <= 60, `estimated ${v.rateLimit!.value}`);
  assert.ok(Math.abs(v.sustainedPerSec! - 400) <= 40, `sustained ${v.sustainedPerSec}`);
  assert.match(v.sentence, /rate limit transportTenantMsgRateLimit ≈ [\d,]+ msg\/s/);
});
