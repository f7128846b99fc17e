// The engine against Debian's mosquitto: the plain-broker path (no ThingsBoard semantics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { startRun } from '../../src/engine/supervisor.js';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { testConfig, testFleet } from '../helpers/engine.js';

const skip = hasMosquitto() ? false : 'mosquitto is not installed (apt-get install -y mosquitto)';

for (const version of ['3.1.1', '5'] as const) {
  test(`QoS 1 over MQTT ${version}: every publish acked, sequences 1..n per device, files written`, { skip, timeout: 120_000 }, async (t) => {
    const { port } = await startMosquitto(t);
    const config = testConfig({ MQTT_PORT: port, MQTT_QOS: 1, MQTT_VERSION: version, DURATION_SEC: 4, PUBLISH_INTERVAL_SEC: 0.5 });
    const run = startRun({ config, fleet: testFleet(60) });
    const r = await run.done;
    assert.equal(r.outcome, 'completed');
    const m = r.metrics;
    assert.ok(m.traffic.sent >= 60, `sent ${m.traffic.sent}`);
    assert.equal(m.traffic.acked, m.traffic.sent);
    assert.equal(m.traffic.failed, 0);
    assert.equal(m.traffic.inFlight, 0);
    assert.equal(m.connections.succeeded, 60);
    assert.equal(m.latency.ackMs.count, m.traffic.sent);
    assert.equal(Object.keys(r.devices).length, 60);
    for (const [name, d] of Object.entries(r.devices)) {
      assert.ok(d.sent >= 1, `${name} sent ${d.sent}`);
      assert.equal(d.acked, d.sent, name);
      assert.equal(d.lastSequence, d.sent, name);
    }
    const saved = JSON.parse(readFileSync(run.reportPath!, 'utf8'));
    assert.equal(saved.metrics.traffic.sent, m.traffic.sent);
    assert.deepEqual(JSON.parse(readFileSync(join(config.dataDir, 'runs', 'latest.json'), 'utf8')).runId, r.runId);
    const csv = readFileSync(join(config.dataDir, r.files.metrics[0]), 'utf8').trim().split('\n');
    assert.ok(csv.length >= 3, 'a CSV row per second');
    const events = readFileSync(join(config.dataDir, r.files.events[0]), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(events.some((e) => e.ev === 'connected'));
    assert.ok(events.some((e) => e.ev === 'publish'), 'publishes are sampled');
  });
}

test('QoS 0 with jitter: publishes on schedule, nothing acked, lag measured, template payload', { skip, timeout: 120_000 }, async (t) => {
  const { port } = await startMosquitto(t);
  const seen: Array<Record<string, unknown>> = [];
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
  t.after(() => sub.end(true));
  await sub.subscribeAsync('v1/devices/me/telemetry');
  sub.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString())));
  const base = testConfig({ MQTT_PORT: port });
  const template = join(base.dataDir, 'template.json');
  writeFileSync(template, JSON.stringify({ ts: '{{timestamp}}', values: { seq: '{{sequence}}', name: '{{device}}', load: '{{walk:0:100}}' } }));
  const config = testConfig({ MQTT_PORT: port, MQTT_QOS: 0, DURATION_SEC: 3, PUBLISH_INTERVAL_SEC: 0.2, PUBLISH_JITTER_MS: 20, SHARDS: 1, PAYLOAD_TEMPLATE: template });
  const r = await startRun({ config, fleet: testFleet(20), writeFiles: false }).done;
  await new Promise((res) => setTimeout(res, 300));
  assert.ok(seen.length > 0);
  const first = seen.find((m) => (m.values as { name: string }).name === 'sim-001' && (m.values as { seq: number }).seq === 1);
  assert.ok(first, 'the template payload of sim-001, sequence 1, reached the broker');
  assert.equal(typeof first.ts, 'number');
  assert.ok(r.metrics.traffic.sent >= 20, `sent ${r.metrics.traffic.sent}`);
  assert.equal(r.metrics.traffic.acked, 0);
  assert.equal(r.metrics.latency.scheduleLagMs.count, r.metrics.traffic.sent);
  assert.ok(r.metrics.traffic.bytesSent > r.metrics.traffic.sent * 50, `${r.metrics.traffic.bytesSent} bytes`);
});
