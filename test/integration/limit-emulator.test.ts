// The limit search backed by real runs: one engine run per step (src/engine/supervisor.ts) against
// the emulator with --capacity; the search must find the capacity and name server saturation.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../helpers/emulator.js';
import { emulatorFleet, startRun, testConfig } from '../helpers/engine.js';
import { measureRunStep, runLimitSearch, sampleOf, type LimitDriver, type LiveSample, type LimitStep } from '../../src/lab/limit/index.js';

const CAPACITY = Number(process.env.LIMIT_TEST_CAPACITY ?? 800);
const DEVICES = 100;
const HOLD_SEC = Number(process.env.LIMIT_TEST_HOLD_SEC ?? 8);
// 800 msg/s keeps the test near 2 minutes on 2 shared cores; LIMIT_TEST_CAPACITY=3000 LIMIT_TEST_SHARDS=2 is the figure

async function emulatorDriver(t: TestContext) {
  const emu = await startEmulator(t, { capacity: CAPACITY });
  const fleet = await emulatorFleet(emu.restUrl, DEVICES);
  const queueEmpty = async () => {
    for (let i = 0; i < 200 && (emu.stats({ perDevice: false }).capacity?.queued ?? 0) > 0; i++) await new Promise((r) => setTimeout(r, 50));
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
      return measureRunStep({ vary: 'rate', asked: load, metrics: r.metrics, samples, lost: r.metrics.traffic.sent - stored });
    },
  };
  return { emu, driver };
}

function table(steps: readonly LimitStep[]): string {
  return steps.map((s) => `${s.phase} ${s.asked} asked, ${s.reached}/s reached ${s.passed ? 'pass' : 'FAIL'}${s.retried ? ' (retried)' : ''}: `
    + s.objectives.map((o) => `${o.name}=${o.value === null ? '-' : +o.value.toFixed(3)}`).join(' ')).join('\n');
}

test(`real runs against --capacity ${CAPACITY}: the search finds it within 10 % and names server saturation`, { timeout: 600_000 }, async (t) => {
  const { emu, driver } = await emulatorDriver(t);
  const started = Date.now();
  const v = await runLimitSearch(driver, { vary: 'rate', from: CAPACITY / 4, to: CAPACITY * 4, resolution: 0.1, stepHoldSec: HOLD_SEC, settleSec: 1 });
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
