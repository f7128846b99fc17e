// MQTT side of the emulator with real clients (mqtt.js, Debian's mosquitto_pub): CONNACK codes,
// QoS 0/1 telemetry into storage and stats, payload forms, attributes, and session takeover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { startEmulator, rest, restLogin, createDevice, fetchStats, fetchDeviceStats } from '../helpers/emulator.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

/** Connects once (no reconnects); resolves the client, or the CONNACK/error code of a refusal. */
function connect(url: string, opts: IClientOptions): Promise<{ client: MqttClient } | { code: number | string | undefined }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10000, ...opts });
    client.once('connect', () => resolve({ client }));
    client.once('error', (e: Error & { code?: number | string }) => {
      client.end(true);
      resolve({ code: e.code });
    });
  });
}

async function connected(url: string, opts: IClientOptions): Promise<MqttClient> {
  const r = await connect(url, opts);
  if (!('client' in r)) throw new Error(`connect refused: ${r.code}`);
  return r.client;
}

test('CONNACK codes on 3.1, 3.1.1 and 5: token accepted, unknown token, no credentials, unknown client id', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'dev-1', 'TOKEN_1');
  for (const protocolVersion of [3, 4, 5] as const) {
    const ok = await connected(emu.mqttUrl, { username: 'TOKEN_1', protocolVersion, clientId: `c${protocolVersion}` });
    assert.equal(ok.connected, true);
    await ok.endAsync();
    const bad = await connect(emu.mqttUrl, { username: 'WRONG', protocolVersion });
    assert.equal('code' in bad && bad.code, protocolVersion === 5 ? 0x86 : 5, `v${protocolVersion} bad token`);
    const anon = await connect(emu.mqttUrl, { protocolVersion, clientId: 'nobody' });
    assert.equal('code' in anon && anon.code, protocolVersion === 5 ? 0x85 : 2, `v${protocolVersion} unknown client id`);
  }
  const stats = await fetchStats(emu.restUrl);
  assert.equal(stats.connections.accepted, 3);
  assert.equal(stats.connections.refused['bad-credentials'], 3);
  assert.equal(stats.connections.refused['identifier-rejected'], 3);
});

test('QoS 0 and 1 telemetry is stored per device; stats count messages, sequences, gaps and duplicates', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'sim-001', 'T1');
  await createDevice(emu.restUrl, token, 'sim-002', 'T2');
  const c1 = await connected(emu.mqttUrl, { username: 'T1' });
  const c2 = await connected(emu.mqttUrl, { username: 'T2', protocolVersion: 5 });
  t.after(() => {
    c1.end(true);
    c2.end(true);
  });
  for (const seq of [1, 2, 3, 5, 5, 6])
    await c1.publishAsync('v1/devices/me/telemetry', JSON.stringify({ sequence: seq, temperature: 20 + seq }), { qos: 1 });
  for (let seq = 1; seq <= 10; seq++)
    c2.publish('v1/devices/me/telemetry', JSON.stringify({ sequence: seq, humidity: 50, status: 'ok', skipped: null }), { qos: 0 });
  await waitFor('20 messages stored', async () => (await fetchStats(emu.restUrl)).messages === 16);
  const s = await fetchStats(emu.restUrl);
  assert.equal(s.devices, 2);
  assert.deepEqual(
    (({ messages, sequences, gaps, duplicates, dataPoints }) => ({ messages, sequences, gaps, duplicates, dataPoints }))(
      s.perDevice['sim-001'],
    ),
    { messages: 6, sequences: 5, gaps: 1, duplicates: 1, dataPoints: 12 },
  );
  assert.deepEqual(
    (({ messages, sequences, gaps, duplicates, dataPoints }) => ({ messages, sequences, gaps, duplicates, dataPoints }))(
      s.perDevice['sim-002'],
    ),
    { messages: 10, sequences: 10, gaps: 0, duplicates: 0, dataPoints: 30 },
  );
  assert.equal(s.dataPoints, 42);
  assert.equal(s.connections.current, 2);
  const totals = (await rest(emu.restUrl, 'GET', '/__emulator/stats?perDevice=0')).body;
  assert.deepEqual([totals.messages, totals.perDevice], [16, {}]);
  const detail = await fetchDeviceStats(emu.restUrl, 'sim-001');
  assert.deepEqual(detail.missingSequences, [4]);
  assert.equal(detail.maxSequence, 6);
  assert.equal(detail.latest.temperature.value, 26);
  assert.ok(detail.firstTs > 0 && detail.lastTs >= detail.firstTs);
});

test('payload forms: object, {ts, values}, mixed arrays; attributes topic; unknown topic keeps the session', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'forms', 'FORMS');
  const c = await connected(emu.mqttUrl, { username: 'FORMS' });
  t.after(() => c.end(true));
  await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ ts: 1000, values: { a: 1, sequence: 1 } }), { qos: 1 });
  await c.publishAsync(
    'v1/devices/me/telemetry',
    JSON.stringify([
      { ts: 2000, values: { a: 2, sequence: 2 } },
      { b: 'x', sequence: 3 },
    ]),
    { qos: 1 },
  );
  await c.publishAsync('v1/devices/me/attributes', JSON.stringify({ fw: 'v1.2', serial: 42 }), { qos: 1 });
  await c.publishAsync('v1/devices/me/unknown', 'whatever', { qos: 1 });
  assert.equal(c.connected, true);
  const d = await fetchDeviceStats(emu.restUrl, 'forms');
  assert.equal(d.messages, 2);
  assert.equal(d.sequences, 3);
  assert.equal(d.dataPoints, 6);
  assert.equal(d.attributeMessages, 1);
  const client = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes/CLIENT_SCOPE`, { token });
  assert.deepEqual(
    client.body.map((a: { key: string; value: unknown }) => [a.key, a.value]),
    [
      ['fw', 'v1.2'],
      ['serial', 42],
    ],
  );
  const latest = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=a,b`, { token });
  assert.deepEqual(latest.body.a, [{ ts: 2000, value: '2' }]);
  assert.equal(latest.body.b[0].value, 'x');
});

test('invalid JSON closes a 3.1.1 session; on MQTT 5 QoS 1 gets PUBACK 0x99 and the session stays', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'v3', 'V3');
  await createDevice(emu.restUrl, token, 'v5', 'V5');
  const c3 = await connected(emu.mqttUrl, { username: 'V3' });
  const closed = new Promise<void>((r) => c3.once('close', () => r()));
  c3.publish('v1/devices/me/telemetry', '{not json', { qos: 1 });
  await closed;
  const c5 = await connected(emu.mqttUrl, { username: 'V5', protocolVersion: 5 });
  t.after(() => c5.end(true));
  const err = await c5.publishAsync('v1/devices/me/telemetry', '{not json', { qos: 1 }).then(
    () => null,
    (e: Error & { code?: number }) => e,
  );
  assert.equal(err?.code, 0x99);
  assert.equal(c5.connected, true);
  await c5.publishAsync('v1/devices/me/telemetry', '{"sequence":1}', { qos: 1 });
  assert.equal((await fetchDeviceStats(emu.restUrl, 'v5')).messages, 1);
  assert.equal((await fetchStats(emu.restUrl)).connections.closed['invalid-payload'], 1);
});

test('a second session with the same token kicks the older one (v5: DISCONNECT 0x8E)', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'twin', 'TWIN');
  const first = await connected(emu.mqttUrl, { username: 'TWIN', protocolVersion: 5, clientId: 'a' });
  const reason = new Promise<number | undefined>((r) => first.once('disconnect', (p) => r(p.reasonCode)));
  const second = await connected(emu.mqttUrl, { username: 'TWIN', protocolVersion: 5, clientId: 'b' });
  t.after(() => {
    first.end(true);
    second.end(true);
  });
  assert.equal(await reason, 0x8e);
  await second.publishAsync('v1/devices/me/telemetry', '{"sequence":1}', { qos: 1 });
  const s = await fetchStats(emu.restUrl);
  assert.equal(s.connections.current, 1);
  assert.equal(s.connections.closed['session-taken-over'], 1);
  assert.equal(s.perDevice.twin.connected, true);
});

test('deleting a device over REST closes its MQTT session', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'gone', 'GONE');
  const c = await connected(emu.mqttUrl, { username: 'GONE' });
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  const events: string[] = [];
  emu.events.on('disconnect', (e) => events.push(e.reason));
  assert.equal((await rest(emu.restUrl, 'DELETE', `/api/device/${id}`, { token })).status, 200);
  await closed;
  c.end(true);
  assert.deepEqual(events, ['device-deleted']);
  const again = await connect(emu.mqttUrl, { username: 'GONE' });
  assert.equal('code' in again && again.code, 5);
});

test("Debian's mosquitto_pub publishes with a device token and the count changes", async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'mosq', 'MOSQ_TOKEN');
  const port = String(emu.mqttPort);
  for (const [seq, qos] of [
    [1, '0'],
    [2, '1'],
  ] as const) {
    await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-u',
      'MOSQ_TOKEN',
      '-q',
      qos,
      '-t',
      'v1/devices/me/telemetry',
      '-m',
      JSON.stringify({ sequence: seq, temperature: 21.5 }),
    ]);
  }
  await run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    port,
    '-V',
    'mqttv5',
    '-u',
    'MOSQ_TOKEN',
    '-q',
    '1',
    '-t',
    'v1/devices/me/telemetry',
    '-m',
    '{"sequence":3}',
  ]);
  await waitFor('3 messages', async () => (await fetchStats(emu.restUrl)).perDevice.mosq.messages === 3);
  const refused = await run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    port,
    '-u',
    'BAD',
    '-t',
    'v1/devices/me/telemetry',
    '-m',
    '{}',
  ]).then(
    () => null,
    (e: { code?: number; stderr?: string }) => e,
  );
  assert.ok(refused, 'mosquitto_pub must fail with a bad token');
  assert.match(String(refused.stderr), /not authori[sz]ed/i);
  assert.equal((await fetchStats(emu.restUrl)).perDevice.mosq.sequences, 3);
});
