// Server-side RPC through the emulator's REST API to real MQTT sessions, following ThingsBoard's
// application/src/main/java/org/thingsboard/server/controller/AbstractRpcController.java (RpcV1Controller,
// RpcV2Controller) and application/.../actors/device/DeviceActorMessageProcessor.java#processRpcRequest;
// and the topics the emulator refuses instead of acknowledging work it does not do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startEmulator, rest, restLogin, createDevice, fetchStats } from '../helpers/emulator.js';

async function client(t: { after(fn: () => void): void }, url: string, opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
  t.after(() => c.end(true));
  return c;
}

/** Subscribes to RPC requests; answers each with `answer(request)` unless it returns undefined. Returns what arrived. */
async function responder(c: MqttClient, answer: (req: { method: string; params: unknown }) => string | undefined) {
  const seen: { topic: string; body: { method: string; params: unknown } }[] = [];
  c.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as { method: string; params: unknown };
    seen.push({ topic, body });
    const out = answer(body);
    if (out !== undefined) c.publish(topic.replace('/request/', '/response/'), out, { qos: 1 });
  });
  await c.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  return seen;
}

test('conformance: server-side RPC reaches the device session; two-way returns its response, one-way returns on delivery', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'dev', 'DEV');
  const dev = await client(t, emu.mqttUrl, { username: 'DEV' });
  const seen = await responder(dev, (req) => (req.method === 'bad' ? 'not json' : JSON.stringify({ echo: req.params })));
  const call = (path: string, body: unknown) => rest(emu.restUrl, 'POST', path, { token, body });

  const v1 = await call(`/api/plugins/rpc/twoway/${id}`, { method: 'setValue', params: { v: 1 } });
  assert.equal(v1.status, 200);
  assert.deepEqual(v1.body, { echo: { v: 1 } });
  assert.deepEqual(seen[0], { topic: 'v1/devices/me/rpc/request/0', body: { method: 'setValue', params: { v: 1 } } });
  const v2 = await call(`/api/rpc/twoway/${id}`, { method: 'get', params: 'x' });
  assert.deepEqual([v2.status, v2.body], [200, { echo: 'x' }]);
  assert.equal(seen[1].topic, 'v1/devices/me/rpc/request/1', 'request ids count up per device');
  const oneway = await call(`/api/rpc/oneway/${id}`, { method: 'blink', params: {} });
  assert.deepEqual([oneway.status, oneway.body], [200, '']);
  assert.equal((await call(`/api/rpc/twoway/${id}`, { method: 'bad', params: {} })).status, 406, 'a response that is not JSON');
  assert.equal((await call(`/api/rpc/twoway/${id}`, '{nope')).status, 400);
  assert.equal((await call('/api/rpc/twoway/00000000-0000-0000-0000-000000000001', { method: 'm' })).status, 404);

  // a request waiting for a session goes out when the device subscribes (sendPendingRequests)
  const late = await createDevice(emu.restUrl, token, 'late', 'LATE');
  const pending = call(`/api/plugins/rpc/twoway/${late}`, { method: 'hello', params: 1, expirationTime: Date.now() + 5000 });
  await new Promise((r) => setTimeout(r, 200));
  const lateClient = await client(t, emu.mqttUrl, { username: 'LATE' });
  await responder(lateClient, () => '{"hi":true}');
  assert.deepEqual((await pending).body, { hi: true });

  const rpc = (await fetchStats(emu.restUrl)).rpc;
  assert.deepEqual(rpc, {
    requests: 5,
    delivered: 5,
    answered: 5,
    timeouts: 0,
    noConnection: 0,
    unimplemented: 0,
    lostByFault: 0,
    clientAnswered: 0,
    viaGateway: 0,
  });
});

test('conformance: RPC timeouts: v1 answers 408 after delivery and 409 with no session; v2 answers 504 for both', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const silent = await createDevice(emu.restUrl, token, 'silent', 'SILENT');
  const offline = await createDevice(emu.restUrl, token, 'offline', 'OFFLINE');
  const c = await client(t, emu.mqttUrl, { username: 'SILENT' });
  const seen = await responder(c, () => undefined);
  // expirationTime is honoured as given (timeout alone is raised to min_timeout, 5 s); 1 s so that a busy
  // machine does not deliver a call already expired (ThingsBoard answers those with the timeout, 408)
  const call = (path: string) => rest(emu.restUrl, 'POST', path, { token, body: { method: 'm', expirationTime: Date.now() + 1000 } });
  const started = Date.now();
  const statuses = await Promise.all([
    call(`/api/plugins/rpc/twoway/${silent}`),
    call(`/api/rpc/twoway/${silent}`),
    call(`/api/plugins/rpc/twoway/${offline}`),
    call(`/api/plugins/rpc/oneway/${offline}`),
    call(`/api/rpc/twoway/${offline}`),
  ]);
  assert.deepEqual(
    statuses.map((r) => r.status),
    [408, 504, 409, 409, 504],
  );
  assert.ok(Date.now() - started >= 990, 'answered at the expiry, not before');
  assert.equal(seen.length, 2, 'only the connected, subscribed device received requests');
  const rpc = (await fetchStats(emu.restUrl)).rpc;
  assert.equal(rpc.requests, rpc.answered + rpc.timeouts + rpc.noConnection);
  assert.deepEqual([rpc.timeouts, rpc.noConnection], [2, 3]);
});

// MqttTransportHandler#processDevicePublish handles these topics; the emulator does not imitate them, so it
// refuses them (v5 PUBACK 0x90 at QoS 1, otherwise the session is closed) and counts them
test('conformance: protobuf v2 requests and client-side RPC are refused and counted, never a quiet PUBACK', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'd5', 'D5');
  await createDevice(emu.restUrl, token, 'd3', 'D3');
  const c5 = await client(t, emu.mqttUrl, { username: 'D5', protocolVersion: 5 });
  const code = (topic: string) =>
    c5.publishAsync(topic, '{}', { qos: 1 }).then(
      () => 0,
      (e: Error & { code?: number }) => e.code,
    );
  assert.equal(await code('v2/r/req/p/1'), 0x90);
  assert.equal(await code('v1/devices/me/rpc/request/1'), 0x90);
  assert.equal(await code('some/other/topic'), 0x90, 'a topic ThingsBoard does not know either: its own answer');
  assert.equal(c5.connected, true);

  const c3 = await client(t, emu.mqttUrl, { username: 'D3' });
  const closed = new Promise<void>((r) => c3.once('close', () => r()));
  c3.publish('v2/a/req/p/1', '{"a":1}', { qos: 1 });
  await closed;
  const persistent = await rest(emu.restUrl, 'POST', `/api/rpc/twoway/${id}`, { token, body: { method: 'm', persistent: true } });
  assert.equal(persistent.status, 400);

  const stats = await fetchStats(emu.restUrl);
  assert.deepEqual(stats.unimplemented, {
    'v2/r/req/p (protobuf client-side RPC)': 1,
    'v2/a/req/p (protobuf attribute request)': 1,
    'v1/devices/me/rpc/request (client-side RPC)': 1,
  });
  assert.equal(stats.unknownTopic, 1);
  assert.equal(stats.connections.closed.unimplemented, 1);
  assert.equal(stats.rpc.unimplemented, 1);
  assert.equal(stats.perDevice.d3.attributeMessages ?? 0, 0, 'nothing stored for a refused publish');
});

// DefaultTelemetrySubscriptionService notifies the device actor of shared-attribute changes;
// JsonConverter.toJson(AttributeUpdateNotificationMsg) renders updates as {"k":v} and deletions as {"deleted":[…]}
test('conformance: shared attributes saved or deleted over REST are pushed to a subscribed session', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'cfg', 'CFG');
  const c = await client(t, emu.mqttUrl, { username: 'CFG' });
  const pushes: unknown[] = [];
  c.on('message', (topic, payload) => topic === 'v1/devices/me/attributes' && pushes.push(JSON.parse(payload.toString())));
  await c.subscribeAsync('v1/devices/me/attributes', { qos: 1 });
  const attrs = `/api/plugins/telemetry/DEVICE/${id}`;
  assert.equal(
    (await rest(emu.restUrl, 'POST', `${attrs}/attributes/SHARED_SCOPE`, { token, body: { mode: 'eco', level: 3 } })).status,
    200,
  );
  assert.equal((await rest(emu.restUrl, 'POST', `${attrs}/attributes/SERVER_SCOPE`, { token, body: { hidden: 1 } })).status, 200);
  assert.equal((await rest(emu.restUrl, 'DELETE', `${attrs}/SHARED_SCOPE?keys=mode`, { token })).status, 200);
  const deadline = Date.now() + 2000;
  while (pushes.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(pushes, [{ mode: 'eco', level: 3 }, { deleted: ['mode'] }], 'server-scope changes are not pushed');
});

// MqttTransportHandler#onGetSessionLimitsRpc answers client-side RPC `getSessionLimits` itself (mqtt/limits/SessionLimits.java)
test('conformance: client-side RPC getSessionLimits is answered with the session limits', async (t) => {
  const emu = await startEmulator(t, { maxMqttPacketSize: 4096, rateLimits: { device: '50:1,600:60', deviceDataPoints: '500:1' } });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'sdk', 'SDK');
  const c = await client(t, emu.mqttUrl, { username: 'SDK' });
  await c.subscribeAsync('v1/devices/me/rpc/response/+', { qos: 1 });
  const reply = new Promise<[string, unknown]>((r) => c.once('message', (topic, p) => r([topic, JSON.parse(p.toString())])));
  await c.publishAsync('v1/devices/me/rpc/request/7', JSON.stringify({ method: 'getSessionLimits', params: {} }), { qos: 1 });
  assert.deepEqual(await reply, [
    'v1/devices/me/rpc/response/7',
    {
      maxPayloadSize: 4096,
      maxInflightMessages: 100,
      rateLimits: { messages: '50:1,600:60', telemetryMessages: null, telemetryDataPoints: '500:1' },
    },
  ]);
  assert.deepEqual((await fetchStats(emu.restUrl)).unimplemented, {}, 'answered, not counted as unimplemented');
});

// Fault flags of the RPC path (docs/emulator.md): the device's response reaches the REST caller rpcResponseDelayMs
// later, or is lost (rpcTimeoutShare) so the call ends as DeviceActorMessageProcessor's timeout would (v1 408).
// clientRpcReply stands for a rule chain ending in TbSendRPCReplyNode: client-side RPC gets its {"method","params"} back.
test('faults: RPC response delay and lost responses; clientRpcReply answers client-side RPC', async (t) => {
  const emu = await startEmulator(t, { clientRpcReply: true, faults: { rpcResponseDelayMs: 300 } });
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'slow', 'SLOW');
  const c = await client(t, emu.mqttUrl, { username: 'SLOW' });
  await responder(c, () => '{"ok":1}');
  const call = () =>
    rest(emu.restUrl, 'POST', `/api/plugins/rpc/twoway/${id}`, { token, body: { method: 'm', expirationTime: Date.now() + 1000 } });
  const t0 = Date.now();
  const delayed = await call();
  assert.deepEqual([delayed.status, delayed.body], [200, { ok: 1 }]);
  assert.ok(Date.now() - t0 >= 300, `answered after the response delay (${Date.now() - t0} ms)`);

  emu.setFaults({ rpcResponseDelayMs: 0, rpcTimeoutShare: 1 });
  assert.equal((await call()).status, 408, 'the lost response: delivered, never answered');

  await c.subscribeAsync('v1/devices/me/rpc/response/+', { qos: 1 });
  const reply = new Promise<[string, unknown]>((r) => c.once('message', (topic, p) => r([topic, JSON.parse(p.toString())])));
  await c.publishAsync('v1/devices/me/rpc/request/42', JSON.stringify({ method: 'getTime', params: { tz: 'UTC' } }), { qos: 1 });
  assert.deepEqual(await reply, ['v1/devices/me/rpc/response/42', { method: 'getTime', params: { tz: 'UTC' } }]);
  const stats = await fetchStats(emu.restUrl);
  assert.deepEqual([stats.rpc.answered, stats.rpc.timeouts, stats.rpc.lostByFault, stats.rpc.clientAnswered], [1, 1, 1, 1]);
  assert.deepEqual(stats.unimplemented, {});
});
