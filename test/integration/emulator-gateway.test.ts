// The emulator's gateway MQTT API against real sockets, following ThingsBoard's
// common/transport/mqtt/src/main/java/org/thingsboard/server/transport/mqtt/session/AbstractGatewaySessionHandler.java
// and MqttTransportHandler#processPublish / #handleGatewayPublishMsg.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startEmulator, rest, restLogin, createDevice, fetchStats, fetchDeviceStats } from '../helpers/emulator.js';
import { waitFor } from '../helpers/wait.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type PubErr = (Error & { code?: number }) | null;

async function client(t: { after(fn: () => void): void }, url: string, opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
  t.after(() => c.end(true));
  return c;
}

const publish = (c: MqttClient, topic: string, body: unknown): Promise<PubErr> =>
  c.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 }).then(
    () => null,
    (e: Error & { code?: number }) => e,
  );

async function createGateway(restUrl: string, token: string, name: string): Promise<string> {
  const r = await rest(restUrl, 'POST', `/api/device?accessToken=${name}`, { token, body: { name, additionalInfo: { gateway: true } } });
  assert.equal(r.status, 200);
  return r.body.id.id as string;
}

// AbstractGatewaySessionHandler#onDeviceConnect / getDeviceCreationFuture (created with the type's profile,
// additionalInfo.lastConnectedGateway), onDeviceTelemetryJson, onDeviceAttributesJson, processOnDisconnect
test('conformance: gateway connect creates the child; telemetry and attributes are stored per child', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const gwId = await createGateway(emu.restUrl, token, 'GW1');
  const gw = await client(t, emu.mqttUrl, { username: 'GW1' });
  assert.equal(await publish(gw, 'v1/gateway/connect', { device: 'gw1-d1', type: 'thermostat' }), null);
  const child = await rest(emu.restUrl, 'GET', '/api/tenant/devices?deviceName=gw1-d1', { token });
  assert.equal(child.status, 200);
  assert.equal(child.body.type, 'thermostat');
  assert.equal(child.body.additionalInfo.lastConnectedGateway, gwId);

  const ts = 1700000000000;
  const telemetry = {
    'gw1-d1': [
      { ts, values: { temp: 21.5, sequence: 1 } },
      { ts: ts + 1, values: { sequence: 2 } },
    ],
    'gw1-d2': [{ v: 7 }],
  };
  assert.equal(await publish(gw, 'v1/gateway/telemetry', telemetry), null);
  assert.equal(await publish(gw, 'v1/gateway/attributes', { 'gw1-d1': { fw: '1.2' } }), null);

  const d1 = await rest(emu.restUrl, 'GET', '/api/tenant/devices?deviceName=gw1-d1', { token });
  const values = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${d1.body.id.id}/values/timeseries?keys=temp`, { token });
  assert.deepEqual(values.body.temp, [{ ts, value: '21.5' }]);
  const attrs = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${d1.body.id.id}/values/attributes/CLIENT_SCOPE`, { token });
  const pairs = attrs.body.map((a: { key: string; value: unknown }) => [a.key, a.value]);
  assert.deepEqual(pairs, [['fw', 1.2]], 'numeric strings cast as JSON_TYPE_CAST_ENABLED does');
  const s1 = await fetchDeviceStats(emu.restUrl, 'gw1-d1');
  assert.equal(s1.messages, 1, 'one gateway publish = one message per child');
  assert.equal(s1.maxSequence, 2);
  assert.equal(s1.gaps, 0);
  const stats = await fetchStats(emu.restUrl);
  assert.equal(stats.perDevice['gw1-d2'].messages, 1, 'a child named only in telemetry is created and stored');
  assert.equal(stats.perDevice.GW1.messages, 0, 'nothing is stored under the gateway itself');
  assert.deepEqual(stats.gateway, { created: 2, connects: 2, disconnects: 0, refused: 0, notGateway: 0 });

  assert.equal(await publish(gw, 'v1/gateway/disconnect', { device: 'gw1-d1' }), null);
  assert.equal((await fetchStats(emu.restUrl)).gateway.disconnects, 1);
  // the gateway's session ends: so do its remaining children's
  gw.end(true);
  await waitFor('children disconnected', async () => (await fetchStats(emu.restUrl)).gateway.disconnects === 2);
});

// MqttTransportHandler#processPublish: without a gateway session handler a v1/gateway/* publish is only
// logged (no PUBACK); validateJsonPayload → AdaptorException (0x99 / close), RuntimeException → PUBACK 0x83 + close
test('conformance: gateway topics need additionalInfo.gateway; malformed gateway payloads answered as ThingsBoard', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'plain', 'PLAIN');
  await createGateway(emu.restUrl, token, 'GW5');
  await createGateway(emu.restUrl, token, 'GW3');

  const plain = await client(t, emu.mqttUrl, { username: 'PLAIN' });
  const noAck = await Promise.race([
    publish(plain, 'v1/gateway/telemetry', { x: [{ a: 1 }] }).then(() => 'acked'),
    new Promise((r) => setTimeout(() => r('no PUBACK'), 400)),
  ]);
  assert.equal(noAck, 'no PUBACK');
  assert.equal(plain.connected, true);
  let stats = await fetchStats(emu.restUrl);
  assert.equal(stats.gateway.notGateway, 1);
  assert.equal(stats.perDevice.x, undefined, 'no child created for a non-gateway');

  const gw5 = await client(t, emu.mqttUrl, { username: 'GW5', protocolVersion: 5 });
  assert.equal((await publish(gw5, 'v1/gateway/telemetry', '{not json'))?.code, 0x99);
  assert.equal(gw5.connected, true);
  assert.equal((await publish(gw5, 'v1/gateway/telemetry', { a: [{ ts: 1, values: 'x' }] }))?.code, 0x99, 'a row that fails to convert');
  assert.equal((await publish(gw5, 'v1/gateway/nowhere', {}))?.code, 0x90);
  const reason = new Promise<number | undefined>((r) => gw5.once('disconnect', (p) => r(p.reasonCode)));
  assert.equal((await publish(gw5, 'v1/gateway/telemetry', { a: { v: 1 } }))?.code, 0x83, 'no array entries: message is empty');
  assert.equal(await reason, 0x83);

  const gw3 = await client(t, emu.mqttUrl, { username: 'GW3' });
  const closed = new Promise<void>((r) => gw3.once('close', () => r()));
  gw3.publish('v1/gateway/connect', JSON.stringify({ device: '' }), { qos: 1 });
  await closed;
  stats = await fetchStats(emu.restUrl);
  assert.equal(stats.connections.closed['gateway-error'], 2);
  assert.equal(stats.perDevice.a.messages, 0, 'the failed rows stored nothing');
});

// DefaultTransportApiService (device limit) → AbstractGatewaySessionHandler: a connect's failure is only logged
// (processOnConnect → logDeviceCreationError: no PUBACK); telemetry for such a child → processFailure with
// QUOTA_EXCEEDED (PUBACK 0x97); the gateway stays connected
test('conformance: a gateway child over the tenant device limit: connect unanswered, telemetry PUBACK 0x97, the gateway stays', async (t) => {
  const emu = await startEmulator(t, { maxDevices: 2 });
  const { token } = await restLogin(emu.restUrl);
  await createGateway(emu.restUrl, token, 'GWL');
  const gw = await client(t, emu.mqttUrl, { username: 'GWL', protocolVersion: 5 });
  assert.equal(await publish(gw, 'v1/gateway/connect', { device: 'first' }), null);
  const unanswered = await Promise.race([publish(gw, 'v1/gateway/connect', { device: 'second' }), sleep(400).then(() => 'no PUBACK')]);
  assert.equal(unanswered, 'no PUBACK');
  assert.equal((await publish(gw, 'v1/gateway/telemetry', { third: [{ ts: 1, values: { v: 1 } }] }))?.code, 0x97);
  assert.equal(gw.connected, true);
  const stats = await fetchStats(emu.restUrl);
  assert.equal(stats.devices, 2);
  assert.equal(stats.gateway.refused, 2);
});

// the gatewayChildLimit fault refuses children past N on one gateway session the same way
test('fault: gatewayChildLimit refuses the children of one gateway session past the limit', async (t) => {
  const emu = await startEmulator(t, { faults: { gatewayChildLimit: 2 } });
  const { token } = await restLogin(emu.restUrl);
  await createGateway(emu.restUrl, token, 'GWF');
  const gw = await client(t, emu.mqttUrl, { username: 'GWF', protocolVersion: 5 });
  for (const d of ['c1', 'c2']) assert.equal(await publish(gw, 'v1/gateway/connect', { device: d }), null);
  const third = await Promise.race([publish(gw, 'v1/gateway/connect', { device: 'c3' }), sleep(400).then(() => 'no PUBACK')]);
  assert.equal(third, 'no PUBACK');
  assert.equal(
    (await publish(gw, 'v1/gateway/telemetry', { c1: [{ ts: 1, values: { v: 1 } }], c4: [{ ts: 1, values: { v: 1 } }] }))?.code,
    0x97,
  );
  const stats = await fetchStats(emu.restUrl);
  assert.equal(stats.perDevice.c1.messages, 1, 'the child within the limit is stored');
  assert.equal(stats.perDevice.c3, undefined);
  assert.equal(stats.gateway.refused, 2);
  // lifted at run time: the refused child connects
  await rest(emu.restUrl, 'PUT', '/__emulator/faults', { body: { gatewayChildLimit: 0 } });
  assert.equal(await publish(gw, 'v1/gateway/connect', { device: 'c3' }), null);
});
