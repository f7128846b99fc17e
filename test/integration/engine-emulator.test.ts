// The engine against the embedded ThingsBoard emulator: exact reconciliation of what was sent
// with what the server stored, and every failure path showing up under the right cause.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Faults } from '../../src/emulator/index.js';
import type { RawValues } from '../../src/config/index.js';
import type { FleetDevice } from '../../src/common/fleet.js';
import { emulatorFleet, testConfig, startRun, waitForSnapshot } from '../helpers/engine.js';
import { startEmulator } from '../helpers/emulator.js';

async function emulatorWithFleet(t: TestContext, devices: number, faults: Partial<Faults> = {}) {
  const emu = await startEmulator(t, { faults });
  const addr = emu;
  const fleet: FleetDevice[] = await emulatorFleet(addr.restUrl, devices);
  const config = (flags: RawValues) => testConfig(t, { MQTT_PORT: addr.mqttPort, TB_URL: addr.restUrl, ...flags });
  return { emu, fleet, config };
}

test('200 devices × 10 s at QoS 1: per device sent = acked = stored, sequences gap-free', { timeout: 180_000 }, async (t) => {
  const { emu, fleet, config } = await emulatorWithFleet(t, 200);
  const r = await startRun(t, { config: config({ MQTT_QOS: 1, DURATION_SEC: 10, PUBLISH_INTERVAL_SEC: 1 }), fleet }).done;
  assert.equal(r.outcome, 'completed');
  assert.equal(r.metrics.connections.succeeded, 200);
  assert.equal(r.metrics.traffic.failed, 0);
  assert.equal(r.metrics.disconnects.total, 0);
  const stats = emu.stats();
  assert.equal(stats.messages, r.metrics.traffic.sent);
  for (const d of fleet) {
    const rec = r.devices[d.name];
    const st = stats.perDevice[d.name];
    assert.ok(rec.sent >= 1, `${d.name} sent ${rec.sent}`);
    assert.equal(rec.acked, rec.sent, d.name);
    assert.equal(st.messages, rec.sent, `${d.name}: stored ${st.messages} of ${rec.sent}`);
    assert.equal(st.sequences, rec.sent, d.name);
    assert.equal(st.gaps, 0, d.name);
    assert.equal(st.duplicates, 0, d.name);
    assert.equal(st.maxSequence, rec.lastSequence, d.name);
  }
});

test('refused connects show up as `refused: server unavailable (3)` (class server) and devices retry', { timeout: 120_000 }, async (t) => {
  const { emu, fleet, config } = await emulatorWithFleet(t, 40, { refuseConnects: 0.5 });
  const run = startRun(t, {
    config: config({ MQTT_QOS: 1, DURATION_SEC: 0, RECONNECT_MIN_MS: 200, RECONNECT_MAX_MS: 400 }),
    fleet,
    writeFiles: false,
  });
  const s = await waitForSnapshot(run, (x) => x.connections.connected === 40);
  run.stop('test end');
  const r = await run.done;
  const cause = 'refused: server unavailable (3)';
  assert.ok(s.connections.byOutcome[cause] > 0, JSON.stringify(s.connections.byOutcome));
  assert.equal(r.metrics.connections.byOutcome[cause], emu.stats().connections.refused['fault-refuse']);
  assert.equal(r.metrics.disconnects.byCause[cause], r.metrics.connections.byOutcome[cause]);
  assert.ok((r.metrics.disconnects.byClass.server ?? 0) >= r.metrics.connections.byOutcome[cause]);
  assert.equal(r.metrics.errors.byClass['connect-refused'], r.metrics.connections.byOutcome[cause]);
  assert.equal(r.metrics.connections.failed + 40, r.metrics.connections.attempts);
  const refusedDevices = Object.values(r.devices).filter((d) => d.connectFailures > 0);
  assert.ok(refusedDevices.length > 0);
  for (const d of refusedDevices) assert.equal(d.errors['connect-refused'], d.connectFailures);
});

test(
  'dropped sessions: `server closed`, collapse detected with its cause, reconnects spread by jitter',
  { timeout: 120_000 },
  async (t) => {
    const { fleet, config } = await emulatorWithFleet(t, 60, { dropShare: 1, dropAfterSec: 2 });
    const cfg = config({
      MQTT_QOS: 1,
      DURATION_SEC: 0,
      PUBLISH_INTERVAL_SEC: 0.5,
      RECONNECT_MIN_MS: 6000,
      RECONNECT_MAX_MS: 6000,
      COLLAPSE_WINDOW_SEC: 1,
      COLLAPSE_SHARE: 0.5,
    });
    const run = startRun(t, { config: cfg, fleet });
    // run until the collapse is recorded and most devices came back once
    await waitForSnapshot(run, (s) => s.collapse !== null && s.connections.succeeded >= 60 + 40, 90_000);
    run.stop('test end');
    const r = await run.done;
    const m = r.metrics;
    assert.ok(m.disconnects.byCause['server closed'] >= 60, JSON.stringify(m.disconnects.byCause));
    assert.ok((m.disconnects.byClass.server ?? 0) >= 60);
    assert.ok(m.collapse, 'collapse detected');
    assert.equal(m.collapse.kind, 'connections');
    assert.equal(m.collapse.dominantCause, 'server closed');
    assert.ok(m.collapse.peakConnected > 30);
    assert.ok(m.traffic.skipped > 0, 'publishes due while down are skipped, not sent');
    assert.equal(m.traffic.sent, m.traffic.acked + m.traffic.failed);
    // reconnect delays from the event logs: uniform in [0, 6 s], not one synchronized wave
    const events = r.files.events.flatMap((f) =>
      readFileSync(join(cfg.dataDir, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    const delays: number[] = [];
    const downAt = new Map<string, number>();
    for (const e of events.sort((a, b) => a.ts - b.ts)) {
      if (e.ev === 'disconnect') downAt.set(e.device, e.ts);
      else if (e.ev === 'connected' && downAt.has(e.device)) {
        delays.push(e.ts - downAt.get(e.device)!);
        downAt.delete(e.device);
      }
    }
    assert.ok(delays.length >= 40, `${delays.length} reconnects seen`);
    const sorted = [...delays].sort((a, b) => a - b);
    assert.ok(sorted[sorted.length - 1] - sorted[0] > 1500, `reconnect delays spread: ${sorted[0]}..${sorted[sorted.length - 1]} ms`);
    assert.ok(sorted[0] >= 0 && sorted[sorted.length - 1] <= 6000 + 3000, 'within the backoff ceiling (plus connect time)');
    assert.ok(new Set(sorted.map((d) => Math.round(d / 100))).size > 10, 'not synchronized');
  },
);

test('a stall in the emulator shows as ack timeouts and keepalive timeouts, and as a collapse', { timeout: 120_000 }, async (t) => {
  const { emu, fleet, config } = await emulatorWithFleet(t, 30);
  const run = startRun(t, {
    config: config({
      MQTT_QOS: 1,
      DURATION_SEC: 0,
      PUBLISH_INTERVAL_SEC: 0.5,
      MQTT_KEEPALIVE_SEC: 1,
      ACK_TIMEOUT_MS: 1000,
      COLLAPSE_WINDOW_SEC: 1.5,
    }),
    fleet,
    writeFiles: false,
  });
  await waitForSnapshot(run, (s) => s.connections.connected === 30 && s.traffic.acked > 30);
  emu.stall(6000);
  const s = await waitForSnapshot(
    run,
    (x) => x.collapse !== null && (x.disconnects.byCause['keepalive timeout'] ?? 0) > 0 && (x.errors.byClass['ack-timeout'] ?? 0) > 0,
    30_000,
  );
  assert.ok((s.disconnects.byClass.network ?? 0) > 0);
  assert.ok(['keepalive timeout', 'no PUBACKs (server stalled?)'].includes(s.collapse!.dominantCause), s.collapse!.dominantCause);
  run.stop('test end');
  const r = await run.done;
  assert.equal(r.metrics.traffic.sent, r.metrics.traffic.acked + r.metrics.traffic.failed);
});
