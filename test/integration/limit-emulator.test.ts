// The limit search backed by real runs: one engine run per step (src/engine/supervisor.ts) against
// the emulator with --capacity; the search must find the capacity and name server saturation. Each
// step also reads ThingsBoard's own statistics (2 s windows): its triage verdict is the step's `server`.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../helpers/emulator.js';
import { emulatorFleet, testConfig } from '../helpers/engine.js';
import { runDriver, runLimitSearch, type LimitDriver, type LimitStep } from '../../src/lab/limit/index.js';
import type { RunReport } from '../../src/report/schema.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';
import { serverStatsForRun } from '../../src/lab/server-stats-run-sink.js';

/** The emulator's statistics window, s: a step of 8 s spans several. */
const STATS_WINDOW_SEC = 2;

const CAPACITY = Number(process.env.LIMIT_TEST_CAPACITY ?? 800);
const DEVICES = 100;
const HOLD_SEC = Number(process.env.LIMIT_TEST_HOLD_SEC ?? 8);
// 800 msg/s keeps the test near 2 minutes on 2 shared cores; LIMIT_TEST_CAPACITY=3000 LIMIT_TEST_SHARDS=2 is the figure

/**
 * `runDriver` (src/lab/limit/run-driver.ts) over an emulator: one pipeline run per step with the
 * delivery check as its sink (REST read-back, WebSocket ingest latency, rate-limit attribution).
 */
async function emulatorDriver(t: TestContext, emuOpts: EmulatorOptions) {
  const emu = await startEmulator(t, { ...emuOpts, serverStats: { intervalSec: STATS_WINDOW_SEC, prometheus: true } });
  const fleet = await emulatorFleet(emu.restUrl, DEVICES);
  const config = testConfig(t, {
    MQTT_PORT: emu.mqttPort,
    TB_URL: emu.restUrl,
    MQTT_QOS: 1,
    SHARDS: Number(process.env.LIMIT_TEST_SHARDS ?? 1),
    ACK_TIMEOUT_MS: 8000,
    DRAIN_TIMEOUT_MS: 8000,
    DELIVERY_CHECK: 1,
    DELIVERY_SETTLE_SEC: 2,
    LATENCY_SAMPLE: 10,
    DASHBOARD: 0,
    TB_METRICS_URL: `${emu.restUrl}/actuator/prometheus`,
  });
  const reports: RunReport[] = [];
  const base = runDriver({
    vary: 'rate',
    config,
    fleet,
    onReport: (r) => reports.push(r),
    // as `tblab limit --embedded` reads them: polled every second, settled one window + 2 s
    serverStats: () => serverStatsForRun(config, { embedded: true, windowSec: STATS_WINDOW_SEC }),
  });
  const queued = () => emu.stats({ perDevice: false }).capacity?.queued ?? 0;
  const driver: LimitDriver = {
    runStep: (load, hold) => base.runStep(load, hold),
    async settle(seconds) {
      for (let i = 0; i < 200 && queued() > 0; i++) await new Promise((r) => setTimeout(r, 50));
      await base.settle!(seconds);
    },
  };
  return { emu, driver, reports };
}

function table(steps: readonly LimitStep[]): string {
  const verdict = (s: LimitStep) => `${s.passed ? 'pass' : 'FAIL'}${s.retried ? ' (retried)' : ''}`;
  const head = (s: LimitStep) =>
    `${s.phase} ${s.asked} asked, ${s.reached}/s reached ${verdict(s)}, ThingsBoard ${s.measurement.server?.tier ?? '-'}`;
  return steps
    .map((s) => `${head(s)}: ` + s.objectives.map((o) => `${o.name}=${o.value === null ? '-' : +o.value.toFixed(3)}`).join(' '))
    .join('\n');
}

const title = `real runs against --capacity ${CAPACITY}: the search finds it within 10 % and names server saturation`;
test(title, { timeout: 600_000 }, async (t) => {
  const { emu, driver, reports } = await emulatorDriver(t, { capacity: CAPACITY });
  const started = Date.now();
  // 400, 800 pass; 1,600 fails (queue full: drops); then bisecting 1,200, 1,000, 900 (within 15 % of 800)
  const range = { from: CAPACITY / 2, to: CAPACITY * 2 };
  const v = await runLimitSearch(driver, { vary: 'rate', ...range, resolution: 0.15, stepHoldSec: HOLD_SEC, settleSec: 1 });
  t.diagnostic(`${Math.round((Date.now() - started) / 1000)} s, ${v.steps.length} steps\n${table(v.steps)}\n${v.sentence}`);
  assert.equal(v.outcome, 'found', v.sentence);
  assert.ok(Math.abs(v.sustainedPerSec! - CAPACITY) <= CAPACITY * 0.1, `sustained ${v.sustainedPerSec} msg/s vs capacity ${CAPACITY}`);
  assert.equal(v.tier, 'server-saturation');
  assert.ok(v.brokeAt! > CAPACITY * 0.95);
  const cap = emu.stats({ perDevice: false }).capacity!;
  assert.ok(cap.delayed > 0 && cap.maxWaitMs >= 1000, `the model queued work: ${JSON.stringify(cap)}`);
  assert.equal(reports.length, v.steps.length, 'one run per step');
  const stored = emu.stats({ perDevice: false }).messages;
  const delivered = reports.reduce((n, r) => n + r.delivery!.totals.stored, 0);
  assert.equal(delivered, stored, "the steps' delivery checks account for every stored message");
  assert.equal(
    reports.reduce((n, r) => n + r.delivery!.totals.sent, 0) - delivered,
    v.steps.reduce((n, s) => n + s.measurement.lost!, 0),
  );
  assert.equal(
    cap.dropped,
    v.steps.reduce((n, s) => n + s.measurement.lost!, 0),
    'lost = what the capacity model dropped',
  );
  for (const s of v.steps.filter((x) => x.passed)) {
    assert.equal(s.measurement.lost, 0, `a passing step lost nothing (${s.asked})`);
    assert.ok(s.reached >= s.asked * 0.9, `a passing step reached its load: ${s.reached} of ${s.asked}`);
  }

  // ThingsBoard's own statistics, per step: well inside the capacity no tier fell behind; at twice
  // the capacity the model dropped a fifth of the messages unserved, which its transport never counted
  assert.ok(
    v.steps.every((s) => s.measurement.server),
    'every step read the statistics',
  );
  const lightest = v.steps.find((s) => s.asked === range.from)!.measurement.server!;
  assert.equal(lightest.tier, 'none', lightest.evidence.join('\n'));
  const twice = v.steps.find((s) => s.asked === range.to)!;
  assert.ok(twice.measurement.lost! > twice.measurement.sent * 0.1, `dropped ${twice.measurement.lost}`);
  t.diagnostic(`ThingsBoard at ${twice.asked} msg/s:\n${twice.measurement.server!.evidence.join('\n')}`);
  assert.equal(twice.measurement.server!.tier, 'transport', twice.measurement.server!.evidence.join('\n'));
  assert.match(twice.measurement.server!.evidence[0], /^apiUsage\.transportMsgCount .* fell behind lab\.sent/);
  // the verdict carries the triage of the step that broke, and says it
  const broke = v.steps.find((s) => s.asked === v.brokeAt && !s.retried)!;
  assert.deepEqual(v.server, { step: broke.index, asked: broke.asked, ...broke.measurement.server! });
  assert.match(v.sentence, new RegExp(`ThingsBoard's own statistics there: ${v.server!.tier} \\(`));
});

test('real runs against a tenant rate limit of 400 msg/s: the verdict names the limit and its value', { timeout: 600_000 }, async (t) => {
  const { driver } = await emulatorDriver(t, { rateLimits: { tenant: '400:1' } });
  // 300 passes; 600 fails; then 450, 375, 412 (the full bucket lets a step of 8 s pass up to 450 msg/s)
  const v = await runLimitSearch(driver, { vary: 'rate', from: 300, to: 1200, resolution: 0.1, stepHoldSec: HOLD_SEC, settleSec: 1 });
  t.diagnostic(`${v.steps.length} steps\n${table(v.steps)}\n${v.sentence}`);
  assert.equal(v.outcome, 'found', v.sentence);
  assert.equal(v.tier, 'rate-limit');
  assert.equal(v.rateLimit?.name, 'transportTenantMsgRateLimit');
  // the value is the bucket's refill after the first refusal (400/s), not what a full bucket let through
  const value = Number(/≈ ([\d,]+) msg\/s/.exec(v.rateLimit!.value)![1].replace(/,/g, ''));
  assert.ok(Math.abs(value - 400) <= 20, `estimated ${v.rateLimit!.value} (${v.rateLimit!.basis})`);
  assert.ok(v.rateLimit!.refillSec! >= 2, v.rateLimit!.basis);
  assert.ok(v.sustainedPerSec! >= 380 && v.sustainedPerSec! <= 460, `sustained ${v.sustainedPerSec}`);
  assert.match(v.sentence, /rate limit transportTenantMsgRateLimit ≈ [\d,]+ msg\/s/);
  // ThingsBoard's statistics at the step that broke: the rate-limit tier, citing the attribution
  t.diagnostic(`ThingsBoard at ${v.brokeAt} msg/s:\n${v.server?.evidence.join('\n')}`);
  assert.equal(v.server?.tier, 'rate-limit', v.server?.evidence.join('\n'));
  assert.match(v.server!.evidence[0], /^delivery\.rateLimit: \d+ probable rate-limit events/);
});
