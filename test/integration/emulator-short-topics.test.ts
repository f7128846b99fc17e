// ThingsBoard's `v2/*` short device topics against the emulator over real sockets, following
// common/data/src/main/java/org/thingsboard/server/common/data/device/profile/MqttTopics.java (the topics),
// common/transport/mqtt/src/main/java/org/thingsboard/server/transport/mqtt/MqttTransportHandler.java
// (#processDevicePublish, #processSubscribe, and the per-session TopicType of its answers: TopicType.java) and
// .../mqtt/session/DeviceSessionCtx.java#getAdaptor (every emulator device has a JSON profile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startEmulator, rest, restLogin, createDevice, fetchStats, fetchDeviceStats, type StartedEmulator } from '../helpers/emulator.js';
import { fileScope } from '../helpers/cleanup.js';
import { waitFor } from '../helpers/wait.js';

// one emulator for the file; clientRpcReply stands for a rule chain ending in TbSendRPCReplyNode
const emu: StartedEmulator = await startEmulator(fileScope, { clientRpcReply: true });
const { token } = await restLogin(emu.restUrl);

async function device(t: { after(fn: () => void): void }, name: string, opts: IClientOptions = {}) {
  const id = await createDevice(emu.restUrl, token, name, name.toUpperCase());
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: name.toUpperCase(), reconnectPeriod: 0, ...opts });
  t.after(() => c.end(true));
  const inbox: { topic: string; body: string }[] = [];
  c.on('message', (topic, p) => inbox.push({ topic, body: p.toString() }));
  /** The next message on `topic`, waited for. */
  const next = async (topic: string) => {
    const m = await waitFor(`a message on ${topic}`, () => inbox.find((x) => x.topic === topic), 3000);
    inbox.splice(inbox.indexOf(m), 1);
    return m.body;
  };
  return { id, c, inbox, next };
}

/** PUBACK reason (0 = success) of a QoS 1 publish. */
const pubCode = (c: MqttClient, topic: string, body: string) =>
  c.publishAsync(topic, body, { qos: 1 }).then(
    () => 0,
    (e: Error & { code?: number }) => e.code,
  );

// processDevicePublish: DEVICE_TELEMETRY_SHORT_(JSON_)TOPIC and DEVICE_ATTRIBUTES_SHORT_(JSON_)TOPIC go through the
// same transportService.process(PostTelemetryMsg / PostAttributeMsg) as v1: stored, counted, sequences tracked
test('conformance: telemetry and attributes on v2/t, v2/t/j, v2/a, v2/a/j are stored as on v1', async (t) => {
  const { id, c } = await device(t, 'short1');
  await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ sequence: 1, v: 1 }), { qos: 1 });
  await c.publishAsync('v2/t', JSON.stringify({ sequence: 2, v: 2 }), { qos: 1 });
  await c.publishAsync('v2/t/j', JSON.stringify([{ ts: 1_700_000_000_000, values: { sequence: 3, v: '3' } }]), { qos: 1 });
  await c.publishAsync('v2/a', JSON.stringify({ fw: '1.2', a: true }), { qos: 1 });
  await c.publishAsync('v2/a/j', JSON.stringify({ b: 2 }), { qos: 1 });
  const s = await fetchDeviceStats(emu.restUrl, 'short1');
  assert.deepEqual([s.messages, s.sequences, s.gaps, s.maxSequence, s.attributeMessages], [3, 3, 0, 3, 2]);
  const ts = await rest(
    emu.restUrl,
    'GET',
    `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=v&limit=10&startTs=0&endTs=${Date.now() + 1000}`,
    { token },
  );
  assert.deepEqual(ts.body.v.map((p: { value: unknown }) => p.value).sort(), ['1', '2', '3']);
  const attrs = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes/CLIENT_SCOPE`, { token });
  assert.deepEqual(Object.fromEntries(attrs.body.map((a: { key: string; value: unknown }) => [a.key, a.value])), {
    fw: 1.2,
    a: true,
    b: 2,
  });
});

// processSubscribe accepts the v2 filters as exact strings (registerSubQoS: granted min(QoS, 1)); anything else is
// TOPIC_FILTER_INVALID (3.x: 0x80)
test('conformance: SUBSCRIBE to the v2 filters is granted QoS ≤ 1; other v2 filters are refused', async (t) => {
  const { c } = await device(t, 'short2');
  // mqtt.js rejects a SUBACK with a failure code: the codes are on the error's packet
  const granted = await c
    .subscribeAsync({
      'v2/a/res/+': { qos: 1 },
      'v2/r/req/+': { qos: 2 },
      'v2/r/res/+': { qos: 0 },
      'v2/a': { qos: 1 },
      'v2/fw/response/+/chunk/+': { qos: 1 },
      'v2/a/res/5': { qos: 1 },
      'v2/#': { qos: 1 },
    })
    .then(
      () => null,
      (e: { packet?: { granted?: number[] } }) => e.packet?.granted,
    );
  assert.deepEqual(granted, [1, 1, 0, 1, 1, 0x80, 0x80]);
  const v5 = await device(t, 'short2v5', { protocolVersion: 5 });
  const refused = await v5.c.subscribeAsync('v2/t', { qos: 1 }).then(
    () => null,
    (e: { packet?: { granted?: number[] } }) => e.packet?.granted,
  );
  assert.deepEqual(refused, [0x8f]);
});

// attrReqTopicType: the response goes out on the family the request came on (onGetAttributesResponse), per request
test('conformance: attribute requests on v2/a/req/{id} and v2/a/req/j/{id} are answered on v2/a/res/…', async (t) => {
  const { id, c, next } = await device(t, 'short3');
  await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body: { mode: 'eco' } });
  await c.publishAsync('v2/a', JSON.stringify({ fw: 7 }), { qos: 1 });
  await c.subscribeAsync(['v2/a/res/+', 'v2/a/res/j/+', 'v1/devices/me/attributes/response/+'], { qos: 1 });
  await c.publishAsync('v2/a/req/4', JSON.stringify({ clientKeys: 'fw', sharedKeys: 'mode' }), { qos: 1 });
  assert.deepEqual(JSON.parse(await next('v2/a/res/4')), { client: { fw: 7 }, shared: { mode: 'eco' } });
  await c.publishAsync('v2/a/req/j/5', JSON.stringify({ sharedKeys: 'mode' }), { qos: 1 });
  assert.deepEqual(JSON.parse(await next('v2/a/res/j/5')), { shared: { mode: 'eco' } });
  await c.publishAsync('v1/devices/me/attributes/request/6', JSON.stringify({ clientKeys: 'fw' }), { qos: 1 });
  assert.deepEqual(JSON.parse(await next('v1/devices/me/attributes/response/6')), { client: { fw: 7 } });
  // JsonMqttAdaptor.processGetAttributeRequestMsg parses the id inside its try: an AdaptorException (v5: PUBACK 0x99)
  const v5 = await device(t, 'short3v5', { protocolVersion: 5 });
  assert.equal(await pubCode(v5.c, 'v2/a/req/x', '{}'), 0x99);
});

// rpcSubTopicType: server-side RPC goes out on the family of the last RPC subscription (onToDeviceRpcRequest); the
// device's response on v2/r/res/{id} completes the call (DEVICE_RPC_RESPONSE_SHORT_TOPIC → ToDeviceRpcResponseMsg)
test('conformance: server-side RPC on v2/r/req/{id}, answered on v2/r/res/{id}; the last subscription picks the family', async (t) => {
  const { id, c } = await device(t, 'short4');
  c.on('message', (topic, p) => {
    const m = /^(v2\/r\/req\/(?:j\/)?|v1\/devices\/me\/rpc\/request\/)(\d+)$/.exec(topic);
    if (!m) return;
    const res = topic.replace('/req/', '/res/').replace('/request/', '/response/');
    c.publish(res, JSON.stringify({ via: m[1], got: JSON.parse(p.toString()) }), { qos: 1 });
  });
  const call = (body: unknown) => rest(emu.restUrl, 'POST', `/api/rpc/twoway/${id}`, { token, body });
  assert.deepEqual(
    (await c.subscribeAsync('v2/r/req/+', { qos: 1 })).map((g) => g.qos),
    [1],
  );
  const r1 = await call({ method: 'set', params: { x: 1 } });
  assert.deepEqual([r1.status, r1.body], [200, { via: 'v2/r/req/', got: { method: 'set', params: { x: 1 } } }]);
  await c.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  assert.equal((await call({ method: 'get' })).body.via, 'v1/devices/me/rpc/request/');
  await c.subscribeAsync('v2/r/req/j/+', { qos: 1 });
  assert.deepEqual((await call({ method: 'get' })).body.via, 'v2/r/req/j/', 'answered on v2/r/res/j/2');
  // a V2_PROTO subscription on a JSON profile: ProtoMqttAdaptor has no rpcRequestDynamicMessageBuilder, and
  // sendErrorRpcResponse answers the call with a SparkplugRpcResponseBody
  await c.subscribeAsync('v2/r/req/p/+', { qos: 1 });
  const r4 = await call({ method: 'reboot', params: { now: true } });
  assert.deepEqual(
    [r4.status, r4.body],
    [200, { result: 'INVALID_ARGUMENTS', error: 'Failed to convert device RPC command to MQTT msg: reboot{"now":true}' }],
  );
  const rpc = (await fetchStats(emu.restUrl)).rpc;
  assert.equal(rpc.requests, rpc.answered + rpc.timeouts + rpc.noConnection);
});

// toServerRpcSubTopicType: client-side RPC is answered on the family it was asked on (onToServerRpcResponse); on v2 even
// getSessionLimits goes to the rule engine (only the v1 branch calls onGetSessionLimitsRpc)
test('conformance: client-side RPC on v2/r/req/{id} is answered on v2/r/res/{id}', async (t) => {
  const { c, next } = await device(t, 'short5');
  await c.subscribeAsync(['v2/r/res/+', 'v2/r/res/j/+', 'v1/devices/me/rpc/response/+'], { qos: 1 });
  await c.publishAsync('v2/r/req/3', JSON.stringify({ method: 'getTime', params: { tz: 'UTC' } }), { qos: 1 });
  assert.deepEqual(JSON.parse(await next('v2/r/res/3')), { method: 'getTime', params: { tz: 'UTC' } });
  await c.publishAsync('v2/r/req/j/4', JSON.stringify({ method: 'getSessionLimits', params: {} }), { qos: 1 });
  assert.deepEqual(JSON.parse(await next('v2/r/res/j/4')), { method: 'getSessionLimits', params: {} }, 'the rule answers it');
  await c.publishAsync('v1/devices/me/rpc/request/5', JSON.stringify({ method: 'getSessionLimits', params: {} }), { qos: 1 });
  assert.equal(JSON.parse(await next('v1/devices/me/rpc/response/5')).maxInflightMessages, 100, 'v1: the transport answers');
  const v5 = await device(t, 'short5v5', { protocolVersion: 5 });
  assert.equal(await pubCode(v5.c, 'v2/r/req/6', 'not json'), 0x99, 'JsonMqttAdaptor: an AdaptorException');
});

// attrSubTopicType: shared-attribute updates go out on the family of the last attributes subscription (onAttributeUpdate)
test('conformance: shared-attribute pushes go to v2/a for a v2/a subscriber; v2/a/p pushes are counted, not sent', async (t) => {
  const { id, c, inbox, next } = await device(t, 'short6');
  const share = (body: unknown) =>
    rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body });
  await c.subscribeAsync('v2/a', { qos: 1 });
  await share({ level: 1 });
  assert.deepEqual(JSON.parse(await next('v2/a')), { level: 1 });
  await c.subscribeAsync('v2/a/j', { qos: 1 });
  await rest(emu.restUrl, 'DELETE', `/api/plugins/telemetry/DEVICE/${id}/SHARED_SCOPE?keys=level`, { token });
  assert.deepEqual(JSON.parse(await next('v2/a/j')), { deleted: ['level'] });
  const before = (await fetchStats(emu.restUrl)).unimplemented['v2/a/p (protobuf attribute push)'] ?? 0;
  await c.subscribeAsync('v2/a/p', { qos: 1 });
  await share({ level: 2 });
  await waitFor(
    'the counted push',
    async () => (await fetchStats(emu.restUrl)).unimplemented['v2/a/p (protobuf attribute push)'] === before + 1,
  );
  await c.unsubscribeAsync('v2/a/p');
  await share({ level: 3 });
  await c.subscribeAsync('v1/devices/me/attributes', { qos: 1 });
  await share({ level: 4 });
  assert.deepEqual(JSON.parse(await next('v1/devices/me/attributes')), { level: 4 }, 'unsubscribed: level 3 was not pushed');
  assert.equal(inbox.length, 0);
});

// getOtaPackageCallback → DefaultTransportApiService: no OTA package on the device or its profile → NOT_FOUND, and
// sendOtaPackageError publishes it on v2/fw/error (for software too), with no PUBACK, then closes (v5 DISCONNECT 0x83)
test('conformance: v2/fw and v2/sw chunk requests get NOT_FOUND on v2/fw/error and the session is closed', async (t) => {
  for (const [kind, version] of [
    ['fw', 4],
    ['sw', 5],
  ] as const) {
    const { c, next } = await device(t, `short7${kind}`, { protocolVersion: version });
    const disconnect = new Promise<number | undefined>((r) => c.once('disconnect', (p) => r(p.reasonCode)));
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    await c.subscribeAsync('v2/fw/error', { qos: 0 });
    c.publish(`v2/${kind}/request/1/chunk/0`, '1024', { qos: 1 });
    assert.equal(await next('v2/fw/error'), 'NOT_FOUND');
    await closed;
    if (version === 5) assert.equal(await disconnect, 0x83);
  }
  assert.equal((await fetchStats(emu.restUrl)).connections.closed['ota-error'], 2);
});

// /p topics need a PROTOBUF profile: ProtoConverter.validateDescriptor fails on a JSON profile → AdaptorException →
// sendResponseForAdaptorErrorOrCloseContext (v5 PUBACK 0x99, 3.x closed); protobuf attribute requests and client-side
// RPC (which need no descriptor) are not imitated: refused and counted under their family; unknown v2 topics keep
// processDevicePublish's default answer
test('conformance: /p publishes get the JSON-profile answer; protobuf requests are counted; unknown v2 topics acknowledged', async (t) => {
  const { c } = await device(t, 'short8', { protocolVersion: 5 });
  assert.equal(await pubCode(c, 'v2/t/p', '\x08\x01'), 0x99);
  assert.equal(await pubCode(c, 'v2/a/p', '\x08\x01'), 0x99);
  assert.equal(await pubCode(c, 'v2/r/res/p/1', '\x08\x01'), 0x99);
  assert.equal(await pubCode(c, 'v2/a/req/p/1', '\x08\x01'), 0x90);
  assert.equal(await pubCode(c, 'v2/r/req/p/1', '\x08\x01'), 0x90);
  assert.equal(await pubCode(c, 'v2/x', '{}'), 0x90);
  assert.equal(c.connected, true);
  const v3 = await device(t, 'short8v3');
  const closed = new Promise<void>((r) => v3.c.once('close', () => r()));
  v3.c.publish('v2/t/p', 'x', { qos: 1 });
  await closed;
  const stats = await fetchStats(emu.restUrl);
  assert.equal(stats.unimplemented['v2/a/req/p (protobuf attribute request)'], 1);
  assert.equal(stats.unimplemented['v2/r/req/p (protobuf client-side RPC)'], 1);
  assert.equal(stats.unimplemented['v2/*'], undefined, 'no blanket family any more');
  assert.equal(stats.perDevice.short8.messages, 0);
});

// the same admission as v1: the device rate limit counts v1 and v2 publishes together (DefaultTransportService.checkLimits)
// and closes the session; without a reply rule client-side RPC on v2 is refused and counted like v1's
test('conformance: v2 telemetry shares the device rate limit; client-side RPC without a reply rule is counted', async (t) => {
  const limited = await startEmulator(t, { rateLimits: { device: '3:60' } });
  const { token: tk } = await restLogin(limited.restUrl);
  await createDevice(limited.restUrl, tk, 'lim', 'LIM');
  const c = await mqtt.connectAsync(limited.mqttUrl, { username: 'LIM', reconnectPeriod: 0, protocolVersion: 5 });
  t.after(() => c.end(true));
  assert.equal(await pubCode(c, 'v2/r/req/1', JSON.stringify({ method: 'm' })), 0x90);
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  await c.publishAsync('v1/devices/me/telemetry', '{"sequence":1}', { qos: 1 });
  await c.publishAsync('v2/t', '{"sequence":2}', { qos: 1 });
  c.publish('v2/t/j', '{"sequence":3}', { qos: 1 });
  c.publish('v2/t', '{"sequence":4}', { qos: 1 });
  await closed;
  const stats = await fetchStats(limited.restUrl);
  assert.deepEqual(stats.unimplemented, { 'v2/r/req (client-side RPC)': 1 });
  assert.equal(stats.connections.closed['rate-limited'], 1);
  assert.deepEqual([stats.perDevice.lim.messages, stats.perDevice.lim.rateLimited], [3, 1], 'the fourth publish was refused');
});
