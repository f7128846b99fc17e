// Delivery truth against the emulator: a real run, then the read-back through ThingsBoard's REST
// and WebSocket APIs checked against the emulator's own record — no faults, ingest loss,
// processing delay and a per-device rate limit.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { EmulatorOptions } from '../../src/emulator/index.js';
import { deliveryCheck } from '../../src/lab/delivery/check.js';
import { deliverySummary } from '../../src/report/delivery-summary.js';
import type { RawValues } from '../../src/config/index.js';
import type { MetricsSnapshot } from '../../src/metrics/snapshot.js';
import { emulatorFleet, testConfig, startRun } from '../helpers/engine.js';
import { metricsValidator } from '../helpers/metrics-schema.js';
import { startEmulator, type StartedEmulator } from '../helpers/emulator.js';

interface Hooks {
  onSnapshot?: (s: MetricsSnapshot) => void;
  onEmulator?: (emu: StartedEmulator) => void;
}

async function deliveryRun(t: TestContext, devices: number, flags: RawValues, emulator: EmulatorOptions = {}, hooks: Hooks = {}) {
  const emu = await startEmulator(t, { recentRowsPerDevice: 5000, ...emulator });
  hooks.onEmulator?.(emu);
  const fleet = await emulatorFleet(emu.restUrl, devices);
  const config = testConfig(t, { MQTT_PORT: emu.mqttPort, TB_URL: emu.restUrl, MQTT_QOS: 1, DELIVERY_SETTLE_SEC: 5, ...flags });
  const check = deliveryCheck({ config, fleet, emulatorUrl: emu.restUrl });
  t.after(() => check.close());
  const run = startRun(t, { config, fleet, writeFiles: false, sinks: [check] });
  if (hooks.onSnapshot) run.on('snapshot', hooks.onSnapshot);
  const report = await run.done;
  assert.ok(report.delivery, 'report.delivery is filled in');
  return { emu, report, fleet, delivery: report.delivery };
}

test('no faults: loss is exactly 0, stored = sent for every device, both sources agree', { timeout: 120_000 }, async (t) => {
  const { delivery, report } = await deliveryRun(t, 30, {
    DURATION_SEC: 6,
    PUBLISH_INTERVAL_SEC: 0.5,
    DELIVERY_SAMPLE: 10,
    LATENCY_SAMPLE: 0,
  });
  assert.equal(delivery.method, 'both');
  assert.deepEqual(delivery.crossCheck, { agree: true, mismatches: [] });
  assert.equal(delivery.totals.sent, report.metrics.traffic.sent);
  assert.ok(delivery.totals.sent > 0);
  assert.equal(delivery.totals.stored, delivery.totals.sent);
  assert.equal(delivery.totals.lost, 0);
  assert.equal(delivery.totals.duplicates, 0);
  assert.equal(delivery.totals.ackedNotStored, 0);
  assert.equal(delivery.sampled?.length, 10);
  for (const [name, d] of Object.entries(delivery.devices)) {
    assert.equal(d.stored, report.devices[name].sent, name);
    assert.equal(d.lost, 0, name);
    assert.equal(d.exact, true, name);
  }
  assert.deepEqual(delivery.devicesWithLoss, []);
  assert.equal(report.metrics.delivery?.lost, 0);
});

test('1 % ingest loss: the lost sequences per device are exactly the ones the emulator dropped', { timeout: 120_000 }, async (t) => {
  const { emu, delivery, fleet } = await deliveryRun(
    t,
    40,
    { DURATION_SEC: 8, PUBLISH_INTERVAL_SEC: 0.2, DELIVERY_SAMPLE: 20, LATENCY_SAMPLE: 0, DELIVERY_SETTLE_SEC: 2 },
    { faults: { ingestLoss: 0.01 } },
  );
  const dropped = emu.stats().faults.ingestDropped;
  assert.ok(dropped > 0, 'the fault dropped something');
  assert.deepEqual(delivery.crossCheck, { agree: true, mismatches: [] });
  assert.equal(delivery.totals.lost, dropped);
  assert.equal(delivery.totals.ackedNotStored, dropped, 'every lost message had been acknowledged');
  const withDrops: string[] = [];
  for (const d of fleet) {
    const own = emu
      .deviceStats(d.name)!
      .droppedSequences.slice()
      .sort((a, b) => a - b);
    const got = delivery.devices[d.name];
    assert.equal(got.lost, own.length, d.name);
    assert.deepEqual(got.lostSequences ?? [], own, `${d.name}: lost sequences`);
    assert.equal(got.stored + got.lost, got.sent, d.name);
    if (own.length) withDrops.push(d.name);
  }
  assert.deepEqual([...(delivery.devicesWithLoss ?? [])].sort(), withDrops.sort());
  const summary = deliverySummary(delivery).join('\n');
  assert.ok(summary.includes(`devices with loss (${withDrops.length})`), summary);
  for (const name of delivery.devicesWithLoss!.slice(0, 10)) assert.ok(summary.includes(name), `summary names ${name}`);
});

test(
  '300 ms processing delay: ingest latency p50 ≥ 300 ms while PUBACK latency stays below; live sample in snapshots',
  { timeout: 120_000 },
  async (t) => {
    let live = null as MetricsSnapshot['delivery'];
    let liveSnapshot = null as MetricsSnapshot | null;
    const { delivery, report } = await deliveryRun(
      t,
      20,
      { DURATION_SEC: 6, PUBLISH_INTERVAL_SEC: 0.5, LATENCY_SAMPLE: 20, DELIVERY_SAMPLE: 5, DELIVERY_EVERY_SEC: 2 },
      { faults: { processingDelayMs: 300 } },
      {
        onSnapshot: (s) => {
          if (s.state === 'running' && s.delivery?.checkedAt && s.delivery.ingestLatencyMs.count) {
            live = s.delivery;
            liveSnapshot = structuredClone(s);
          }
        },
      },
    );
    const lat = delivery.ingestLatencyMs!;
    assert.ok(lat.count > 0, 'updates measured');
    assert.ok(lat.p50! >= 300, `ingest p50 ${lat.p50} ms`);
    assert.ok(report.metrics.latency.ackMs.p50! < 300, `PUBACK p50 ${report.metrics.latency.ackMs.p50} ms`);
    assert.equal(delivery.latencySample?.endpoint, '/api/ws');
    assert.ok(report.histograms.ingestLatencyMs);
    assert.equal(delivery.totals.lost, 0, 'late, not lost');
    assert.equal(delivery.totals.stored, delivery.totals.sent);
    assert.ok(live, 'snapshots carried the live delivery sample');
    assert.equal(live!.sampleDevices, 20);
    assert.ok(live!.ingestLatencyMs.p50! >= 300);
    assert.ok(live!.stored! > 0, 'counted during the run (DELIVERY_EVERY_SEC)');
    const validate = metricsValidator();
    assert.ok(validate(liveSnapshot), JSON.stringify(validate.errors));
    assert.ok(validate(report.metrics), JSON.stringify(validate.errors));
  },
);

test('per-device rate limit: the limited devices and the start time are named, pattern per device', { timeout: 120_000 }, async (t) => {
  const limited = new Set<string>();
  let emulatorFirst = 0;
  const { delivery } = await deliveryRun(
    t,
    16,
    {
      DURATION_SEC: 7,
      PUBLISH_INTERVAL_SEC: 1,
      RECONNECT_MIN_MS: 300,
      RECONNECT_MAX_MS: 600,
      LATENCY_SAMPLE: 0,
      DELIVERY_SAMPLE: 4,
      DELIVERY_SETTLE_SEC: 1,
    },
    { rateLimits: { device: '3:60' } },
    {
      onEmulator: (emu) =>
        emu.events.on('rateLimited', (e) => {
          emulatorFirst ||= Date.now();
          limited.add(e.deviceName!);
        }),
    },
  );
  const rl = delivery.rateLimit!;
  assert.ok(limited.size > 0);
  assert.deepEqual([...(rl.devices ?? [])].sort(), [...limited].sort(), 'devices named = devices the emulator limited');
  // the lab sees the close just after the emulator refused the message (same clock)
  assert.ok(rl.firstAt! >= emulatorFirst && rl.firstAt! - emulatorFirst < 5000, `lab ${rl.firstAt} vs emulator ${emulatorFirst}`);
  assert.match(rl.pattern ?? '', /^per device/);
  assert.match(rl.advice ?? '', /transportDeviceMsgRateLimit/);
  assert.match(rl.pattern ?? '', /emulator confirms/);
  // refused messages were never acknowledged: lost, but not "acked but not stored"
  assert.equal(delivery.totals.ackedNotStored, 0);
  assert.ok(delivery.totals.lost > 0);
  assert.equal(delivery.totals.lost, delivery.totals.sent - delivery.totals.stored);
  assert.match(deliverySummary(delivery).join('\n'), /rate limit \(probable\)/);
});

test(
  'REST 429 (errorCode 33) during the read-back: retried, counted as a rate-limit event, numbers still exact',
  { timeout: 120_000 },
  async (t) => {
    let emulator: StartedEmulator | null = null;
    let limited = false;
    const { delivery } = await deliveryRun(
      t,
      10,
      { DURATION_SEC: 3, PUBLISH_INTERVAL_SEC: 0.5, DELIVERY_SAMPLE: 10, LATENCY_SAMPLE: 0, DELIVERY_CONCURRENCY: 8 },
      {},
      {
        onEmulator: (emu) => (emulator = emu),
        // once the fleet exists: 4 REST requests per second for the tenant
        onSnapshot: () => {
          if (!limited) {
            limited = true;
            emulator!.setRateLimits({ rest: '4:1' });
          }
        },
      },
    );
    const rest = delivery.rateLimit!.events.filter((e) => e.device === '(REST API)');
    assert.equal(rest.length, 1);
    assert.match(rest[0].evidence, /HTTP 429 \(errorCode 33/);
    assert.match(delivery.rateLimit!.advice ?? '', /tenantServerRestLimitsConfiguration/);
    assert.equal(delivery.totals.lost, 0);
    assert.equal(delivery.totals.stored, delivery.totals.sent);
    assert.deepEqual(delivery.crossCheck, { agree: true, mismatches: [] });
  },
);
