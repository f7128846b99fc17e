// The tenant-wide rate-limit advice names the true peak the lab sent (issue 20 #8): whole-second
// rates, not a final partial second or two shard snapshots merged into one second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveryCheck } from '../../src/lab/delivery/check.js';
import { emulatorFleet, testConfig, startRun } from '../helpers/engine.js';
import { startEmulator } from '../helpers/emulator.js';

test('tenant-wide rate limit: "the lab sent up to N msg/s" is the real peak (50 devices × 1 msg/s)', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t, { recentRowsPerDevice: 5000, rateLimits: { tenant: '120:4' } });
  const fleet = await emulatorFleet(emu.restUrl, 50);
  const config = testConfig(t, {
    MQTT_PORT: emu.mqttPort,
    TB_URL: emu.restUrl,
    MQTT_QOS: 1,
    SHARDS: 2,
    DURATION_SEC: 8,
    PUBLISH_INTERVAL_SEC: 1,
    CONNECT_RATE: 0,
    RECONNECT_MIN_MS: 300,
    RECONNECT_MAX_MS: 600,
    LATENCY_SAMPLE: 0,
    DELIVERY_SAMPLE: 4,
    DELIVERY_SETTLE_SEC: 1,
  });
  const check = deliveryCheck({ config, fleet, emulatorUrl: emu.restUrl });
  t.after(() => check.close());
  const report = await startRun(t, { config, fleet, writeFiles: false, sinks: [check] }).done;
  const rl = report.delivery!.rateLimit!;
  t.diagnostic(`causes ${JSON.stringify(report.metrics.disconnects.byCause)}; notes ${report.metrics.generator.notes.join(' | ')}`);
  assert.match(rl.pattern ?? '', /^tenant-wide/, rl.pattern ?? '');
  const peak = Number(/the lab sent up to (\d+) msg\/s/.exec(rl.advice ?? '')?.[1]);
  assert.ok(peak >= 40 && peak <= 53, `advice peak ${peak} msg/s for 50 devices × 1 msg/s: ${rl.advice}`);
});
