// MQTT over TLS against mosquitto with a self-signed certificate: trusted through MQTT_CA_FILE,
// refused without it (class auth), accepted with the explicit insecure switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { testConfig, startRun, testFleet, waitForSnapshot } from '../helpers/engine.js';
import { hasOpenssl, selfSigned } from '../helpers/tls.js';

const skip = !hasMosquitto() ? 'mosquitto is not installed' : !hasOpenssl ? 'openssl is not installed' : false;

test('TLS: CA file trusted, missing trust refused as auth, insecure switch accepted', { skip, timeout: 120_000 }, async (t) => {
  const pem = selfSigned(t);
  const { port } = await startMosquitto(t, pem);
  const base = { MQTT_PORT: port, MQTT_TLS: '1', MQTT_QOS: 1, DURATION_SEC: 2, SHARDS: 1, RECONNECT: '0' } as const;

  const run = startRun(t, {
    config: testConfig(t, { ...base, DURATION_SEC: 0, MQTT_CA_FILE: pem.certFile }),
    fleet: testFleet(5),
    writeFiles: false,
  });
  await waitForSnapshot(run, (s) => s.traffic.acked >= 5);
  run.stop('test end');
  const ok = await run.done;
  assert.equal(ok.metrics.connections.succeeded, 5);
  assert.ok(ok.metrics.traffic.acked > 0);
  assert.equal(ok.metrics.traffic.acked, ok.metrics.traffic.sent);

  const refused = await startRun(t, { config: testConfig(t, base), fleet: testFleet(3), writeFiles: false }).done;
  assert.equal(refused.metrics.connections.succeeded, 0);
  assert.equal(refused.metrics.connections.failed, 3);
  assert.equal(refused.metrics.disconnects.byClass.auth, 3, JSON.stringify(refused.metrics.disconnects.byCause));

  const insecure = await startRun(t, { config: testConfig(t, { ...base, MQTT_TLS_INSECURE: '1' }), fleet: testFleet(2), writeFiles: false })
    .done;
  assert.equal(insecure.metrics.connections.succeeded, 2);
});
