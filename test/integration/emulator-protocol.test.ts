// MQTT protocol details and server-side rules: transport rate limits, oversized packets, MQTT 5
// reason codes, subscriptions with shared-attribute pushes and attribute requests, MQTT_BASIC
// credentials, credential changes, and raw-socket edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { startEmulator, rest, restLogin, createDevice, fetchStats } from '../helpers/emulator.js';
import { waitFor } from '../helpers/wait.js';

async function client(url: string, opts: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
}

const closed = (c: MqttClient) => new Promise<void>((r) => c.once('close', () => r()));

test('device rate limit: the message over the limit is dropped, no PUBACK, connection closed (v5 0x83)', async (t) => {
  const emu = await startEmulator(t, { rateLimits: { device: '3:60' } });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'rl', 'RL');
  const limited: string[] = [];
  emu.events.on('rateLimited', (e) => limited.push(`${e.scope}:${e.deviceName}`));
  const c = await client(emu.mqttUrl, { username: 'RL', protocolVersion: 5 });
  for (let i = 1; i <= 3; i++) await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ sequence: i }), { qos: 1 });
  const reason = new Promise<number | undefined>((r) => c.once('disconnect', (p) => r(p.reasonCode)));
  let acked = false;
  c.publish('v1/devices/me/telemetry', '{"sequence":4}', { qos: 1 }, (err) => {
    acked = !err;
  });
  assert.equal(await reason, 0x83);
  c.end(true);
  assert.equal(acked, false);
  const s = await fetchStats(emu.restUrl);
  assert.deepEqual([s.messages, s.faults.rateLimited, s.perDevice.rl.rateLimited], [3, 1, 1]);
  assert.deepEqual(limited, ['device:rl']);
  assert.equal(
    (await rest(emu.restUrl, 'POST', '/api/v1/RL/telemetry', { body: { a: 1 } })).status,
    500,
    'HTTP device API answers 500 when limited',
  );
});

test('tenant rate limit spans devices; data-point limits count keys; limits change at runtime', async (t) => {
  const emu = await startEmulator(t, { rateLimits: { tenant: '4:60' } });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'a', 'A');
  await createDevice(emu.restUrl, token, 'b', 'B');
  const codes: number[] = [];
  for (const tok of ['A', 'B', 'A', 'B', 'A'])
    codes.push((await rest(emu.restUrl, 'POST', `/api/v1/${tok}/telemetry`, { body: { x: 1 } })).status);
  assert.deepEqual(codes, [200, 200, 200, 200, 500]);
  emu.setRateLimits({ deviceDataPoints: '5:60' });
  const c = await client(emu.mqttUrl, { username: 'A' });
  await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ a: 1, b: 2, c: 3 }), { qos: 1 });
  const gone = closed(c);
  c.publish('v1/devices/me/telemetry', JSON.stringify({ a: 1, b: 2, c: 3 }), { qos: 1 });
  await gone;
  c.end(true);
  assert.equal((await fetchStats(emu.restUrl)).perDevice.a.messages, 3, '2 over HTTP, 1 over MQTT');
});

test('oversized packets close the session (v5: DISCONNECT 0x81); the limit is configurable', async (t) => {
  const emu = await startEmulator(t, { maxMqttPacketSize: 1024 });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'big', 'BIG');
  const c3 = await client(emu.mqttUrl, { username: 'BIG' });
  const gone = closed(c3);
  c3.publish('v1/devices/me/telemetry', JSON.stringify({ blob: 'x'.repeat(2000) }), { qos: 0 });
  await gone;
  c3.end(true);
  const c5 = await client(emu.mqttUrl, { username: 'BIG', protocolVersion: 5 });
  const reason = new Promise<number | undefined>((r) => c5.once('disconnect', (p) => r(p.reasonCode)));
  c5.publish('v1/devices/me/telemetry', JSON.stringify({ blob: 'x'.repeat(2000) }), { qos: 1 });
  assert.equal(await reason, 0x81);
  c5.end(true);
  assert.equal((await fetchStats(emu.restUrl)).connections.closed.oversized, 2);
});

test('MQTT 5: unknown topic gets PUBACK 0x90; invalid JSON at QoS 0 → DISCONNECT 0x99', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'v5', 'V5');
  const c = await client(emu.mqttUrl, { username: 'V5', protocolVersion: 5 });
  const err = await c.publishAsync('v1/devices/me/nowhere', '{}', { qos: 1 }).then(
    () => null,
    (e: Error & { code?: number }) => e,
  );
  assert.equal(err?.code, 0x90);
  const reason = new Promise<number | undefined>((r) => c.once('disconnect', (p) => r(p.reasonCode)));
  c.publish('v1/devices/me/telemetry', 'nope', { qos: 0 });
  assert.equal(await reason, 0x99);
  c.end(true);
});

test('subscriptions: granted QoS ≤ 1, unknown filters refused, shared attributes pushed, attribute requests answered', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'sub', 'SUB');
  const c = await client(emu.mqttUrl, { username: 'SUB' });
  t.after(() => c.end(true));
  const granted = await c.subscribeAsync({ 'v1/devices/me/attributes': { qos: 2 }, 'v1/devices/me/attributes/response/+': { qos: 1 } });
  assert.deepEqual(
    granted.map((g) => [g.topic, g.qos]),
    [
      ['v1/devices/me/attributes', 1],
      ['v1/devices/me/attributes/response/+', 1],
    ],
  );
  const refused = await c.subscribeAsync('some/other').then(
    () => null,
    (e: { packet?: { granted?: number[] } }) => e.packet?.granted,
  );
  assert.deepEqual(refused, [0x80]);
  const messages: [string, unknown][] = [];
  c.on('message', (topic, payload) => messages.push([topic, JSON.parse(payload.toString())]));
  await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body: { target: 22 } });
  await c.publishAsync('v1/devices/me/attributes', JSON.stringify({ fw: 'v1.0' }), { qos: 1 });
  await c.publishAsync('v1/devices/me/attributes/request/7', JSON.stringify({ clientKeys: 'fw', sharedKeys: 'target' }), { qos: 1 });
  await waitFor('2 messages', () => messages.length === 2);
  assert.deepEqual(messages, [
    ['v1/devices/me/attributes', { target: 22 }],
    ['v1/devices/me/attributes/response/7', { client: { fw: 'v1.0' }, shared: { target: 22 } }],
  ]);
});

test('MQTT_BASIC credentials authenticate; changing credentials closes the live session', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const r = await rest(emu.restUrl, 'POST', '/api/device-with-credentials', {
    token,
    body: {
      device: { name: 'basic' },
      credentials: { credentialsType: 'MQTT_BASIC', credentialsValue: JSON.stringify({ clientId: 'cid', userName: 'u1', password: 'p1' }) },
    },
  });
  assert.equal(r.status, 200);
  const id = r.body.id.id;
  const c = await client(emu.mqttUrl, { username: 'u1', password: 'p1', clientId: 'cid' });
  const bad = await client(emu.mqttUrl, { username: 'u1', password: 'wrong', clientId: 'cid' }).then(
    () => 0,
    (e: { code?: number }) => e.code,
  );
  assert.equal(bad, 5);
  const gone = closed(c);
  const cred = (await rest(emu.restUrl, 'GET', `/api/device/${id}/credentials`, { token })).body;
  const upd = await rest(emu.restUrl, 'POST', '/api/device/credentials', {
    token,
    body: { ...cred, credentialsType: 'ACCESS_TOKEN', credentialsId: 'NEW_TOKEN', credentialsValue: null },
  });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.credentialsId, 'NEW_TOKEN');
  await gone;
  c.end(true);
  const again = await client(emu.mqttUrl, { username: 'NEW_TOKEN' });
  again.end(true);
});

test('raw socket: PUBLISH split across reads and CONNECT+PUBLISH in one write; QoS 2 gets a PUBACK; packets before CONNECT close', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'raw', 'RAW');
  const sock = net.connect(emu.mqttPort, '127.0.0.1');
  t.after(() => sock.destroy());
  const replies: string[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p) =>
    replies.push(`${p.cmd}${'messageId' in p ? `:${p.messageId}` : ''}${'returnCode' in p ? `:${p.returnCode}` : ''}`),
  );
  sock.on('data', (b) => parser.parse(b));
  await new Promise((r) => sock.once('connect', r));
  const connectPk = mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: 'raw',
    clean: true,
    keepalive: 0,
    username: 'RAW',
  });
  const pub = (seq: number, qos: 0 | 1 | 2) =>
    mqttPacket.generate({
      cmd: 'publish',
      topic: 'v1/devices/me/telemetry',
      payload: JSON.stringify({ sequence: seq }),
      qos,
      messageId: seq,
      dup: false,
      retain: false,
    });
  sock.write(Buffer.concat([connectPk, pub(1, 1)]));
  const split = pub(2, 1);
  sock.write(split.subarray(0, 5));
  await new Promise((r) => setTimeout(r, 50));
  sock.write(split.subarray(5));
  sock.write(pub(3, 2));
  await waitFor('3 replies', () => replies.length >= 4);
  assert.deepEqual(replies, ['connack:0', 'puback:1', 'puback:2', 'puback:3']);
  assert.equal((await fetchStats(emu.restUrl)).perDevice.raw.sequences, 3);

  const early = net.connect(emu.mqttPort, '127.0.0.1');
  await new Promise((r) => early.once('connect', r));
  early.write(pub(1, 0));
  await new Promise((r) => early.once('close', r));
  assert.equal((await fetchStats(emu.restUrl)).connections.closed['protocol-error'], 1);
});
