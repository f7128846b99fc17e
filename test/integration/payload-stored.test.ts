// The default telemetry as ThingsBoard keeps it: every key stored (no nulls, which the server
// drops), in the original lab's units, and read back through the same REST calls the delivery
// check uses. Also a template that extends the default payload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TELEMETRY_KEYS } from '../../src/device/payload.js';
import { readSequences } from '../../src/lab/delivery/readback.js';
import { emulatorFleet, startRun, testConfig } from '../helpers/engine.js';
import { tmpDir } from '../helpers/tmp.js';
import { rest, restLogin, startEmulator } from '../helpers/emulator.js';
import { adminClient } from '../helpers/lab-fixtures.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

test('default payload as stored by the emulator: every key, the original units, ISO timestamp', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t);
  const fleet = await emulatorFleet(emu.restUrl, 5);
  const start = Date.now();
  const config = testConfig(t, { MQTT_PORT: emu.mqttPort, TB_URL: emu.restUrl, MQTT_QOS: 1, DURATION_SEC: 3, PUBLISH_INTERVAL_SEC: 0.25 });
  const r = await startRun(t, { config, fleet, writeFiles: false }).done;
  assert.equal(r.metrics.traffic.acked, r.metrics.traffic.sent);
  assert.ok(r.metrics.traffic.sent >= 5 * 8, `sent ${r.metrics.traffic.sent}`);
  const { token } = await restLogin(emu.restUrl);
  const client = adminClient(t, emu.restUrl);
  for (const d of fleet) {
    const keys = (await rest<string[]>(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${d.id}/keys/timeseries`, { token })).body;
    assert.deepEqual([...keys].sort(), [...TELEMETRY_KEYS].sort(), `${d.name} stored keys`);
    const q = `keys=${TELEMETRY_KEYS.join(',')}&startTs=${start - 1000}&endTs=${Date.now() + 1000}&limit=10000&useStrictDataTypes=true`;
    const path = `/api/plugins/telemetry/DEVICE/${d.id}/values/timeseries?${q}`;
    const h = (await rest<Record<string, { ts: number; value: unknown }[]>>(emu.restUrl, 'GET', path, { token })).body;
    const sent = r.devices[d.name].sent;
    for (const k of TELEMETRY_KEYS) assert.equal(h[k]?.length, sent, `${d.name}: ${k} stored on every message`);
    for (const p of h.timestamp) {
      assert.match(String(p.value), ISO);
      // the payload's time is the send time: the server stamps it within a few seconds
      assert.ok(Math.abs(Date.parse(String(p.value)) - p.ts) < 5000, `${p.value} vs server ts ${p.ts}`);
    }
    for (const p of h.battery) assert.ok(typeof p.value === 'number' && p.value >= 3.3 && p.value <= 4.2, `battery ${p.value} V`);
    for (const p of h.humidity)
      assert.ok(Number.isInteger(p.value) && (p.value as number) >= 0 && (p.value as number) <= 100, `${p.value} %`);
    for (const p of h.status) assert.ok(['ok', 'warn', 'critical'].includes(p.value as string), `status ${p.value}`);
    for (const p of h.issue) assert.match(String(p.value), /^[a-z]+(-[a-z]+)*$/);
    for (const p of h.device) assert.equal(p.value, d.name);
    // the delivery check reads the ISO time back as the publish time
    const { points } = await readSequences(client, d.id, { startTs: start - 1000, endTs: Date.now() + 1000 }, 10_000);
    assert.equal(points.length, sent);
    for (const p of points) assert.ok(Number.isFinite(p.publishedAt) && Math.abs(p.publishedAt! - p.ts) < 5000, JSON.stringify(p));
  }
});

test('a template with "$extends": "default" stores the default keys plus its own', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t);
  const fleet = await emulatorFleet(emu.restUrl, 2);
  const file = join(tmpDir(t, 'tblab-payload-'), 'extends.json');
  writeFileSync(file, JSON.stringify({ $extends: 'default', site: 'plant-{{index}}', sentAt: '{{timestamp:iso}}' }));
  const config = testConfig(t, {
    MQTT_PORT: emu.mqttPort,
    TB_URL: emu.restUrl,
    MQTT_QOS: 1,
    DURATION_SEC: 2,
    PUBLISH_INTERVAL_SEC: 0.5,
    PAYLOAD_TEMPLATE: file,
  });
  const r = await startRun(t, { config, fleet, writeFiles: false }).done;
  assert.ok(r.metrics.traffic.acked > 0);
  const { token } = await restLogin(emu.restUrl);
  for (const d of fleet) {
    const path = `/api/plugins/telemetry/DEVICE/${d.id}/values/timeseries?useStrictDataTypes=true`;
    const latest = (await rest<Record<string, { value: unknown }[]>>(emu.restUrl, 'GET', path, { token })).body;
    assert.deepEqual(Object.keys(latest).sort(), [...TELEMETRY_KEYS, 'site', 'sentAt'].sort());
    assert.equal(latest.site[0].value, `plant-${d.index}`);
    assert.match(String(latest.sentAt[0].value), ISO);
  }
});
