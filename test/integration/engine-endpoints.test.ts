// MQTT_ENDPOINTS against three real brokers (Debian's mosquitto, one process per endpoint, as the
// transport nodes of a cluster): 300 devices spread by fleet index, each broker holds its third,
// and when one broker is killed and comes back, its devices reconnect to it — no other broker
// ever sees them. Each broker's own subscriber says who published there; the lab's per-endpoint
// numbers must agree with that and add up to the run's totals. The dashboard's endpoint table
// shows the final numbers in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { testConfig, startRun, testFleet } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup } from '../helpers/cleanup.js';
import { launchChromium, openPage } from '../helpers/browser.js';
import { buildDashboard } from '../../src/dashboard/index.js';
import type { MetricsSnapshot } from '../../src/metrics/snapshot.js';

const skip = hasMosquitto() ? false : 'mosquitto is not installed (apt-get install -y mosquitto)';
const K = 3;
const DEVICES = 300;

test(
  '3 endpoints, 300 devices: each broker holds its third; a killed broker gets its own devices back',
  { skip, timeout: 120_000 },
  async (t) => {
    const brokers = await Promise.all(Array.from({ length: K }, () => startMosquitto(t)));
    // who published on which broker, by the payload's device name (sim-NNN → index NNN)
    const seen = brokers.map(() => new Set<number>());
    for (const [k, b] of brokers.entries()) {
      const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 100, connectTimeout: 2000 });
      cleanup(t, () => sub.endAsync(true));
      await sub.subscribeAsync('v1/devices/me/telemetry');
      sub.on('message', (_topic, payload) => seen[k].add(Number(/sim-(\d+)/.exec(payload.toString())![1])));
    }
    const endpoints = brokers.map((b) => `127.0.0.1:${b.port}`).join(',');
    const config = testConfig(t, {
      MQTT_ENDPOINTS: endpoints,
      MQTT_QOS: 1,
      PUBLISH_INTERVAL_SEC: 0.5,
      DURATION_SEC: 0,
      RECONNECT_MIN_MS: 200,
      RECONNECT_MAX_MS: 500,
    });
    const run = startRun(t, { config, fleet: testFleet(DEVICES), writeFiles: false });
    const latest = () => run.latest();
    const connectedAt = (k: number) => latest()?.endpoints[k]?.connected ?? -1;

    await waitFor('every endpoint holds its third', () => [0, 1, 2].every((k) => connectedAt(k) === DEVICES / K), 30_000, 100);
    const first = latest()!;
    assert.equal(first.target.mqtt, `mqtt://${endpoints}`);
    assert.deepEqual(
      first.endpoints.map((e) => [e.endpoint, e.devices]),
      brokers.map((b) => [`127.0.0.1:${b.port}`, DEVICES / K]),
    );
    // the brokers' own view: every device published, each on the endpoint (i − 1) mod 3
    await waitFor('every device published', () => seen.every((s) => s.size === DEVICES / K), 20_000, 100);
    for (const [k, s] of seen.entries()) for (const i of s) assert.equal((i - 1) % K, k, `sim-${i} published on broker ${k}`);

    // broker 1 dies (all its sessions drop) and comes back on the same port 1.5 s later
    await brokers[1].restart(1500);
    seen[1].clear();
    await waitFor('broker 1 gets its devices back', () => connectedAt(1) === DEVICES / K && seen[1].size === DEVICES / K, 30_000, 100);
    for (const [k, s] of seen.entries())
      for (const i of s) assert.equal((i - 1) % K, k, `after the restart sim-${i} published on broker ${k}`);

    run.stop('test done');
    const r = await run.done;
    const m = r.metrics;
    const [e0, e1, e2] = m.endpoints;
    for (const e of [e0, e2]) {
      assert.equal(e.succeeded, DEVICES / K, `${e.endpoint}: one connect per device`);
      assert.equal(e.failed, 0);
      assert.equal(e.disconnects.total, 0, `${e.endpoint} never lost a device`);
    }
    assert.ok(e1.succeeded >= 2 * (DEVICES / K), `the killed broker's devices connected twice: ${e1.succeeded}`);
    assert.ok(e1.disconnects.total >= DEVICES / K, JSON.stringify(e1.disconnects));
    assert.ok(Object.keys(e1.disconnects.byCause).length > 0, 'the causes of its drops are named');
    // the endpoints add up to the run
    const total = (f: (e: MetricsSnapshot['endpoints'][number]) => number) => m.endpoints.reduce((a, e) => a + f(e), 0);
    assert.equal(
      total((e) => e.attempts),
      m.connections.attempts,
    );
    assert.equal(
      total((e) => e.succeeded),
      m.connections.succeeded,
    );
    assert.equal(
      total((e) => e.failed),
      m.connections.failed,
    );
    assert.equal(
      total((e) => e.disconnects.total),
      m.disconnects.total,
    );
    assert.equal(
      total((e) => e.connectMs.count),
      m.latency.connectMs.count,
    );
    for (const e of m.endpoints) assert.equal(e.connectMs.count, e.succeeded, `${e.endpoint}: a connect latency per CONNACK`);
    assert.equal(r.histograms.endpointConnectMs?.length, K);
    assert.equal(m.traffic.acked + m.traffic.failed + m.traffic.inFlight, m.traffic.sent);

    // the dashboard's endpoint table
    const dash = buildDashboard({ host: '127.0.0.1', port: 0, refreshMs: 500, runId: r.runId });
    dash.publish(m);
    const url = await dash.listen();
    cleanup(t, () => dash.close());
    const { page, errors } = await openPage(await launchChromium(t), url);
    await waitFor('the endpoint table', () => page.locator('#endpoints-card').isVisible(), 20_000, 100);
    const rows = await page.locator('#card-endpoints tbody tr').allInnerTexts();
    assert.equal(rows.length, K);
    for (const [k, row] of rows.entries()) {
      const cells = row.split('\t');
      assert.equal(cells[0], m.endpoints[k].endpoint);
      assert.equal(cells[1], String(DEVICES / K));
      assert.equal(cells[3], String(m.endpoints[k].attempts));
      assert.equal(cells[7], String(m.endpoints[k].disconnects.total));
    }
    assert.deepEqual(errors, []);
  },
);
