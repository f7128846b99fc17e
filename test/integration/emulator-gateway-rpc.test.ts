// What the emulator carries down a gateway connection for its children, against real sockets, following
// ThingsBoard's common/transport/mqtt/src/main/java/org/thingsboard/server/transport/mqtt/session/
// AbstractGatewayDeviceSessionContext.java (onToDeviceRpcRequest, onAttributeUpdate, onGetAttributesResponse),
// AbstractGatewaySessionHandler.java (onDeviceRpcResponseJson, onDeviceAttributesRequestJson) and the shapes of
// adaptors/JsonMqttAdaptor.java#convertToGatewayPublish (JsonConverter.toGatewayJson, getJsonObjectForGateway).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmulator, rest, restLogin, fetchStats } from '../helpers/emulator.js';
import { waitFor } from '../helpers/wait.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('conformance: RPC and shared attributes reach a child through its gateway; the gateway answers for it', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const gwRes = await rest(emu.restUrl, 'POST', '/api/device?accessToken=GWR', {
    token,
    body: { name: 'GWR', additionalInfo: { gateway: true } },
  });
  assert.equal(gwRes.status, 200);
  const gw: MqttClient = await mqtt.connectAsync(emu.mqttUrl, { username: 'GWR', reconnectPeriod: 0, protocolVersion: 5 });
  t.after(() => gw.end(true));
  const got: { topic: string; qos: number; body: Record<string, unknown> }[] = [];
  gw.on('message', (topic, payload, packet) => got.push({ topic, qos: packet.qos, body: JSON.parse(payload.toString()) }));
  // not subscribed yet: ThingsBoard publishes anyway, at QoS 1 (getQoSForTopic's default)
  await gw.publishAsync('v1/gateway/connect', JSON.stringify({ device: 'kid' }), { qos: 1 });
  const kid = (await rest(emu.restUrl, 'GET', '/api/tenant/devices?deviceName=kid', { token })).body.id.id as string;
  const call = (mode: string, body: unknown, v = '/api/rpc') => rest(emu.restUrl, 'POST', `${v}/${mode}/${kid}`, { token, body });

  const oneway = await call('oneway', { method: 'blink', params: { on: true } });
  assert.deepEqual([oneway.status, oneway.body], [200, ''], 'one-way: answered once written to the gateway');
  await waitFor('the one-way request', () => got.length === 1);
  assert.deepEqual(got[0], {
    topic: 'v1/gateway/rpc',
    qos: 1,
    body: { device: 'kid', data: { id: 0, method: 'blink', params: { on: true } } },
  });

  // subscribed at QoS 0: the requests follow the granted QoS; the gateway answers for the child
  await gw.subscribeAsync(['v1/gateway/rpc', 'v1/gateway/attributes', 'v1/gateway/attributes/response'], { qos: 0 });
  gw.removeAllListeners('message');
  gw.on('message', (topic, payload, packet) => {
    const body = JSON.parse(payload.toString()) as { device: string; data: { id: number; params: unknown } };
    got.push({ topic, qos: packet.qos, body });
    if (topic === 'v1/gateway/rpc' && body.data.params !== 'silent') {
      gw.publish('v1/gateway/rpc', JSON.stringify({ device: body.device, id: body.data.id, data: { echo: body.data.params } }), { qos: 1 });
    }
  });
  const twoway = await call('twoway', { method: 'get', params: 42 });
  assert.deepEqual([twoway.status, twoway.body], [200, { echo: 42 }]);
  assert.deepEqual(got[1], { topic: 'v1/gateway/rpc', qos: 0, body: { device: 'kid', data: { id: 1, method: 'get', params: 42 } } });
  // the gateway leaves one unanswered: v1 → 408 at the expiry (delivered, no response)
  const silent = await call('twoway', { method: 'get', params: 'silent', expirationTime: Date.now() + 300 }, '/api/plugins/rpc');
  assert.equal(silent.status, 408);

  // shared attributes pushed through the gateway as {"device","data"}; deletions as {"deleted":[…]}
  const attrs = await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${kid}/SHARED_SCOPE`, { token, body: { mode: 'eco' } });
  assert.equal(attrs.status, 200);
  await waitFor('the attribute push', () => got.some((g) => g.topic === 'v1/gateway/attributes'));
  assert.deepEqual(got.find((g) => g.topic === 'v1/gateway/attributes')!.body, { device: 'kid', data: { mode: 'eco' } });
  await rest(emu.restUrl, 'DELETE', `/api/plugins/telemetry/DEVICE/${kid}/SHARED_SCOPE?keys=mode`, { token });
  await waitFor('the deletion push', () => got.filter((g) => g.topic === 'v1/gateway/attributes').length === 2);
  assert.deepEqual(got.filter((g) => g.topic === 'v1/gateway/attributes')[1].body, { device: 'kid', data: { deleted: ['mode'] } });

  // attribute requests: "key" → "value", "keys" → "values", missing keys left out
  await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${kid}/SHARED_SCOPE`, { token, body: { a: 1, b: 'x' } });
  await gw.publishAsync('v1/gateway/attributes/request', JSON.stringify({ id: 7, device: 'kid', client: false, key: 'a' }), { qos: 1 });
  await gw.publishAsync('v1/gateway/attributes/request', JSON.stringify({ id: 8, device: 'kid', client: false, keys: ['a', 'b', 'zz'] }), {
    qos: 1,
  });
  await waitFor('two attribute responses', () => got.filter((g) => g.topic === 'v1/gateway/attributes/response').length === 2);
  const responses = got.filter((g) => g.topic === 'v1/gateway/attributes/response').map((g) => g.body);
  assert.deepEqual(responses, [
    { id: 7, device: 'kid', value: 1 },
    { id: 8, device: 'kid', values: { a: 1, b: 'x' } },
  ]);

  // after the child's disconnect no session takes its requests: v2 → 504 at the expiry, never delivered
  await gw.publishAsync('v1/gateway/disconnect', JSON.stringify({ device: 'kid' }), { qos: 1 });
  const before = got.length;
  const orphan = call('twoway', { method: 'get', params: 1, expirationTime: Date.now() + 300 });
  assert.equal((await orphan).status, 504);
  await sleep(50);
  assert.equal(got.length, before, 'nothing published for a disconnected child');
  // a request for a child not connected yet waits and goes out when the gateway connects it
  const waiting = call('twoway', { method: 'late', params: 'hi', expirationTime: Date.now() + 4000 });
  await sleep(100);
  await gw.publishAsync('v1/gateway/connect', JSON.stringify({ device: 'kid' }), { qos: 1 });
  assert.deepEqual((await waiting).body, { echo: 'hi' });

  const stats = await fetchStats(emu.restUrl);
  assert.deepEqual(
    [stats.rpc.requests, stats.rpc.delivered, stats.rpc.viaGateway, stats.rpc.answered, stats.rpc.timeouts, stats.rpc.noConnection],
    [5, 4, 4, 3, 1, 1],
  );
  assert.equal(stats.unimplemented['v1/gateway/rpc'], undefined);
  assert.equal(stats.unimplemented['v1/gateway/attributes/request'], undefined);
});

// onDeviceAttributesRequestJson reads id/device/client/key(s) outside the child's future: missing → RuntimeException →
// PUBACK 0x83 and the gateway is closed (MqttTransportHandler#handleGatewayPublishMsg); claim stays unimplemented
test('conformance: malformed gateway attribute requests close the gateway; v1/gateway/claim is refused and counted', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await rest(emu.restUrl, 'POST', '/api/device?accessToken=GWM', { token, body: { name: 'GWM', additionalInfo: { gateway: true } } });
  const gw: MqttClient = await mqtt.connectAsync(emu.mqttUrl, { username: 'GWM', reconnectPeriod: 0, protocolVersion: 5 });
  t.after(() => gw.end(true));
  const claim = await gw.publishAsync('v1/gateway/claim', JSON.stringify({ kid: { secretKey: 's' } }), { qos: 1 }).then(
    () => null,
    (e: Error & { code?: number }) => e.code,
  );
  assert.equal(claim, 0x90);
  // a reply naming no device is a RuntimeException too
  const reason = new Promise<number | undefined>((r) => gw.once('disconnect', (p) => r(p.reasonCode)));
  const bad = await gw
    .publishAsync('v1/gateway/attributes/request', JSON.stringify({ device: 'kid', client: true, key: 'a' }), { qos: 1 })
    .then(
      () => null,
      (e: Error & { code?: number }) => e.code,
    );
  assert.equal(bad, 0x83);
  assert.equal(await reason, 0x83);
  const stats = await fetchStats(emu.restUrl);
  assert.equal(stats.unimplemented['v1/gateway/claim'], 1);
  assert.equal(stats.connections.closed['gateway-error'], 1);
});
