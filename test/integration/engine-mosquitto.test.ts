// The engine against Debian's mosquitto: the plain-broker path (no ThingsBoard semantics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { testConfig, startRun, testFleet } from '../helpers/engine.js';

const skip = hasMosquitto() ? false : 'mosquitto is not installed (apt-get install -y mosquitto)';

for (const version of ['3.1.1', '5'] as const) {
  test(
    `QoS 1 over MQTT ${version}: every publish acked, sequences 1..n per device, files written`,
    { skip, timeout: 120_000 },
    async (t) => {
      const { port } = await startMosquitto(t);
      const config = testConfig(t, { MQTT_PORT: port, MQTT_QOS: 1, MQTT_VERSION: version, DURATION_SEC: 4, PUBLISH_INTERVAL_SEC: 0.5 });
      const run = startRun(t, { config, fleet: testFleet(60) });
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
      const events = readFileSync(join(config.dataDir, r.files.events[0]), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.ok(events.some((e) => e.ev === 'connected'));
      assert.ok(
        events.some((e) => e.ev === 'publish'),
        'publishes are sampled',
      );
    },
  );
}

test('QoS 0 with jitter: publishes on schedule, nothing acked, lag measured, template payload', { skip, timeout: 120_000 }, async (t) => {
  const { port } = await startMosquitto(t);
  const seen: Array<Record<string, unknown>> = [];
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
  t.after(() => sub.end(true));
  await sub.subscribeAsync('v1/devices/me/telemetry');
  sub.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString())));
  const base = testConfig(t, { MQTT_PORT: port });
  const template = join(base.dataDir, 'template.json');
  writeFileSync(
    template,
    JSON.stringify({ ts: '{{timestamp}}', values: { seq: '{{sequence}}', name: '{{device}}', load: '{{walk:0:100}}' } }),
  );
  const config = testConfig(t, {
    MQTT_PORT: port,
    MQTT_QOS: 0,
    DURATION_SEC: 3,
    PUBLISH_INTERVAL_SEC: 0.2,
    PUBLISH_JITTER_MS: 20,
    SHARDS: 1,
    PAYLOAD_TEMPLATE: template,
  });
  const r = await startRun(t, { config, fleet: testFleet(20), writeFiles: false }).done;
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

test(
  'stages ramp devices up and down without counting disconnects; library API: async iterator and beforeFinalReport',
  { skip, timeout: 120_000 },
  async (t) => {
    const { port } = await startMosquitto(t);
    const config = testConfig(t, { MQTT_PORT: port, MQTT_QOS: 1, STAGES: '2s:100%,3s:100%,1s:0%', PUBLISH_INTERVAL_SEC: 0.5 });
    const run = startRun(t, {
      config,
      fleet: testFleet(20),
      sinks: [
        {
          name: 'test',
          judge: () => ({ thresholds: [{ expression: 'test', ok: true, actual: 1, limit: 1, message: 'added by the hook' }] }),
        },
      ],
    });
    const states: string[] = [];
    let maxConnected = 0;
    for await (const s of run) {
      states.push(s.state);
      maxConnected = Math.max(maxConnected, s.connections.connected);
    }
    const r = await run.done;
    assert.equal(r.outcome, 'completed');
    assert.equal(r.endReason, 'duration reached');
    assert.ok(states.length >= 4, 'a snapshot per second through the iterator');
    assert.equal(states.at(-1), 'finished');
    assert.equal(maxConnected, 20);
    assert.equal(r.metrics.connections.connected, 0, 'ramped down to 0');
    assert.equal(r.metrics.disconnects.total, 0, 'a ramp-down is not a disconnect');
    assert.equal(r.metrics.collapse, null, 'nor a collapse');
    assert.equal(r.metrics.traffic.acked, r.metrics.traffic.sent);
    assert.equal(JSON.parse(readFileSync(run.reportPath!, 'utf8')).thresholds[0].message, 'added by the hook');
  },
);

test(
  'interval below the tick: several messages per device per tick are written as one, every one acked; every slot sent or counted skipped',
  { skip, timeout: 120_000 },
  async (t) => {
    const { port } = await startMosquitto(t);
    const config = testConfig(t, { MQTT_PORT: port, MQTT_QOS: 1, DURATION_SEC: 2, PUBLISH_INTERVAL_SEC: 0.002, SHARDS: 1 });
    const r = await startRun(t, { config, fleet: testFleet(5), writeFiles: false }).done;
    assert.equal(r.outcome, 'completed');
    assert.equal(r.metrics.traffic.acked, r.metrics.traffic.sent);
    assert.equal(r.metrics.traffic.failed, 0);
    for (const [name, d] of Object.entries(r.devices)) {
      assert.ok(d.sent > 10, `${name} sent ${d.sent}`);
      assert.equal(d.lastSequence, d.sent, `${name}: sequences 1..n, none lost in the concatenated writes`);
      // open model: 2 s at 2 ms = ~1000 slots per device, each either sent or skipped (late/in-flight window full)
      assert.ok(d.sent + d.skipped >= 500, `${name}: ${d.sent} sent + ${d.skipped} skipped`);
    }
  },
);
