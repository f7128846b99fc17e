// What the emulator writes down a device session goes out at the QoS the device subscribed the matching topic
// with, as ThingsBoard does: common/transport/mqtt/.../adaptors/JsonMqttAdaptor.java#createMqttPublishMsg takes
// session/MqttDeviceAwareSessionContext.java#getQoSForTopic (the granted QoS of the matching filter, via
// session/MqttTopicMatcher.java, else AT_LEAST_ONCE) and ctx.nextMsgId(); MqttTransportHandler.java#registerSubQoS
// records min(requested, 1) per accepted filter. The client's PUBACK is accepted (MqttTransportHandler, case
// PUBACK) and nothing is retransmitted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { startEmulator, rest, restLogin, createDevice, fetchStats } from '../helpers/emulator.js';
import { fileScope } from '../helpers/cleanup.js';
import { waitFor } from '../helpers/wait.js';

const emu = await startEmulator(fileScope);
const { token } = await restLogin(emu.restUrl);

interface Seen {
  topic: string;
  payload: string;
  qos: number;
  messageId: number | undefined;
}

/** A device (created now) connected with mqtt.js, which PUBACKs QoS 1 publishes itself; `seen` collects them. */
async function device(t: { after(fn: () => void): void }, name: string): Promise<{ id: string; c: MqttClient; seen: Seen[] }> {
  const id = await createDevice(emu.restUrl, token, name, name.toUpperCase());
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: name.toUpperCase(), reconnectPeriod: 0 });
  t.after(() => c.end(true));
  const seen: Seen[] = [];
  c.on('message', (topic, payload, pk: IPublishPacket) =>
    seen.push({ topic, payload: payload.toString(), qos: pk.qos, messageId: pk.messageId }),
  );
  return { id, c, seen };
}

const writeShared = (id: string, body: unknown) =>
  rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/SHARED_SCOPE`, { token, body });

test('conformance: shared-attribute push at the granted QoS 1 with a packet id, PUBACKed, session stays', async (t) => {
  const before = (await fetchStats(emu.restUrl)).downlink;
  const d = await device(t, 'q1');
  await d.c.subscribeAsync('v1/devices/me/attributes', { qos: 1 });
  assert.equal((await writeShared(d.id, { mode: 'eco' })).status, 200);
  const push = await waitFor('the push', () => d.seen[0]);
  assert.deepEqual([push.topic, push.payload, push.qos], ['v1/devices/me/attributes', '{"mode":"eco"}', 1]);
  assert.ok(push.messageId! >= 1, 'a packet id');
  // no `…/attributes/response/+` subscription: getQoSForTopic falls back to AT_LEAST_ONCE
  d.c.publish('v1/devices/me/attributes/request/5', '{"sharedKeys":"mode"}', { qos: 1 });
  const answer = await waitFor('the attribute response', () => d.seen[1]);
  assert.deepEqual([answer.topic, answer.payload, answer.qos], ['v1/devices/me/attributes/response/5', '{"shared":{"mode":"eco"}}', 1]);
  assert.ok(answer.messageId! > push.messageId!, 'one id space per session, counting up');
  const after = await waitFor('both PUBACKs counted', async () => {
    const s = (await fetchStats(emu.restUrl)).downlink;
    return s.pubacks - before.pubacks === 2 ? s : null;
  });
  assert.equal(after.qos1 - before.qos1, 2);
  assert.ok(d.c.connected, 'a PUBACK neither closes the session nor counts as an error');
  assert.equal((await fetchStats(emu.restUrl)).connections.current >= 1, true);
});

test('conformance: QoS 0 subscriptions get QoS 0 pushes; a + filter matches the response topic', async (t) => {
  const d = await device(t, 'q0');
  await d.c.subscribeAsync(['v1/devices/me/attributes', 'v1/devices/me/attributes/response/+'], { qos: 0 });
  await writeShared(d.id, { level: 3 });
  const push = await waitFor('the push', () => d.seen[0]);
  assert.deepEqual([push.topic, push.qos], ['v1/devices/me/attributes', 0]);
  d.c.publish('v1/devices/me/attributes/request/9', '{"sharedKeys":"level"}', { qos: 1 });
  const answer = await waitFor('the attribute response', () => d.seen[1]);
  assert.deepEqual([answer.topic, answer.qos], ['v1/devices/me/attributes/response/9', 0]);
  // unsubscribing removes the filter from the QoS map (processUnsubscribe): the next response is back at QoS 1
  await d.c.unsubscribeAsync('v1/devices/me/attributes/response/+');
  d.c.publish('v1/devices/me/attributes/request/10', '{"sharedKeys":"level"}', { qos: 1 });
  assert.equal((await waitFor('the second response', () => d.seen[2])).qos, 1);
});

test('conformance: server-side RPC at the rpc/request/+ subscription QoS (1 on v1, 0 on v2/r/req/+), answered', async (t) => {
  const d = await device(t, 'rpc1');
  d.c.on('message', (topic) => {
    if (topic.includes('/request/') || topic.includes('/req/'))
      d.c.publish(topic.replace('/request/', '/response/').replace('/req/', '/res/'), '{"ok":true}', { qos: 1 });
  });
  await d.c.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  const call = await rest(emu.restUrl, 'POST', `/api/rpc/twoway/${d.id}`, { token, body: { method: 'set', params: 1 } });
  assert.deepEqual([call.status, call.body], [200, { ok: true }]);
  assert.deepEqual([d.seen[0].topic, d.seen[0].qos], ['v1/devices/me/rpc/request/0', 1]);
  assert.ok(d.seen[0].messageId! >= 1);

  const v2 = await device(t, 'rpc2');
  v2.c.on('message', (topic) => v2.c.publish(topic.replace('/req/', '/res/'), '{"ok":2}', { qos: 1 }));
  await v2.c.subscribeAsync('v2/r/req/+', { qos: 0 });
  const call2 = await rest(emu.restUrl, 'POST', `/api/rpc/twoway/${v2.id}`, { token, body: { method: 'set', params: 2 } });
  assert.deepEqual([call2.status, call2.body], [200, { ok: 2 }]);
  assert.deepEqual([v2.seen[0].topic, v2.seen[0].qos], ['v2/r/req/0', 0]);
});
