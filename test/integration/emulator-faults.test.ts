// Faults on demand, set at start, at runtime and over /__emulator/faults: ack latency, refused
// connects, dropped sessions, stalls, the connection cap, ingest loss and processing delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { startEmulator, rest, restLogin, createDevice, fetchStats } from '../helpers/emulator.js';
import { waitFor } from '../helpers/wait.js';

function connect(url: string, opts: IClientOptions): Promise<MqttClient | number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (e: Error & { code?: number }) => {
      c.end(true);
      resolve(e.code ?? -1);
    });
  });
}

async function fleet(t: Parameters<typeof startEmulator>[0], n: number, opts: Parameters<typeof startEmulator>[1] = {}) {
  const emu = await startEmulator(t, opts);
  const { token } = await restLogin(emu.restUrl);
  for (let i = 1; i <= n; i++) await createDevice(emu.restUrl, token, `f-${i}`, `F${i}`);
  return emu;
}

test('ack latency delays PUBACKs; REST latency delays REST replies (set at runtime)', async (t) => {
  const emu = await fleet(t, 1);
  const c = (await connect(emu.mqttUrl, { username: 'F1' })) as MqttClient;
  t.after(() => c.end(true));
  emu.setFaults({ ackLatencyMs: 300, restLatencyMs: 200 });
  let start = Date.now();
  await c.publishAsync('v1/devices/me/telemetry', '{"sequence":1}', { qos: 1 });
  assert.ok(Date.now() - start >= 290, 'PUBACK came after the configured latency');
  start = Date.now();
  await rest(emu.restUrl, 'GET', '/api/deviceProfileInfo/default');
  assert.ok(Date.now() - start >= 190);
  start = Date.now();
  await rest(emu.restUrl, 'POST', '/api/v1/F1/telemetry', { body: { a: 1 } });
  assert.ok(Date.now() - start < 190, 'the device API (/api/v1) is not delayed by restLatencyMs');
  const faults = await rest(emu.restUrl, 'PUT', '/__emulator/faults', { body: { ackLatencyMs: 0, restLatencyMs: 0 } });
  assert.equal(faults.status, 200);
  assert.equal(faults.body.ackLatencyMs, 0);
  const bad = await rest(emu.restUrl, 'PUT', '/__emulator/faults', { body: { ingestLoss: 3, bogus: 1 } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /ingestLoss: 3 is not a share from 0 to 1; unknown fault "bogus"|unknown fault "bogus".*ingestLoss/);
});

test('refused connects get CONNACK 3 (v5 0x88); the connection cap refuses beyond N', async (t) => {
  const emu = await fleet(t, 3, { faults: { refuseConnects: 1 } });
  assert.equal(await connect(emu.mqttUrl, { username: 'F1' }), 3);
  assert.equal(await connect(emu.mqttUrl, { username: 'F1', protocolVersion: 5 }), 0x88);
  emu.setFaults({ refuseConnects: 0, maxConnections: 2 });
  const a = (await connect(emu.mqttUrl, { username: 'F1' })) as MqttClient;
  const b = (await connect(emu.mqttUrl, { username: 'F2' })) as MqttClient;
  t.after(() => {
    a.end(true);
    b.end(true);
  });
  assert.equal(await connect(emu.mqttUrl, { username: 'F3' }), 3);
  assert.equal(await connect(emu.mqttUrl, { username: 'F3', protocolVersion: 5 }), 0x97);
  const s = await fetchStats(emu.restUrl);
  assert.deepEqual([s.faults.refusedByFault, s.faults.refusedByCap, s.connections.current], [2, 2, 2]);
});

test('drop share closes sessions N seconds after CONNACK', async (t) => {
  const emu = await fleet(t, 2, { faults: { dropShare: 1, dropAfterSec: 0.3 } });
  const c = (await connect(emu.mqttUrl, { username: 'F1' })) as MqttClient;
  const reasons: string[] = [];
  emu.events.on('disconnect', (e) => reasons.push(e.reason));
  await new Promise<void>((r) => c.once('close', () => r()));
  c.end(true);
  assert.deepEqual(reasons, ['fault-drop']);
  emu.setFaults({ dropShare: 0 });
  const d = (await connect(emu.mqttUrl, { username: 'F2' })) as MqttClient;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(d.connected, true);
  d.end(true);
  assert.equal((await fetchStats(emu.restUrl)).faults.dropped, 1);
});

test('a stall stops reading: nothing is stored until it ends, then everything is', async (t) => {
  const emu = await fleet(t, 1);
  const c = (await connect(emu.mqttUrl, { username: 'F1' })) as MqttClient;
  t.after(() => c.end(true));
  emu.stall(2500);
  for (let i = 1; i <= 20; i++) c.publish('v1/devices/me/telemetry', JSON.stringify({ sequence: i }), { qos: 0 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await fetchStats(emu.restUrl)).messages, 0, 'nothing read during the stall');
  await waitFor('all 20 stored after the stall', async () => (await fetchStats(emu.restUrl)).messages === 20);
  assert.equal((await fetchStats(emu.restUrl)).faults.stalls, 1);
});

test('ingest loss: PUBACK sent but nothing stored; processing delay: stored after the PUBACK', async (t) => {
  const emu = await fleet(t, 1, { faults: { ingestLoss: 1 } });
  const c = (await connect(emu.mqttUrl, { username: 'F1' })) as MqttClient;
  t.after(() => c.end(true));
  for (let i = 1; i <= 5; i++) await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ sequence: i }), { qos: 1 });
  let s = await fetchStats(emu.restUrl);
  assert.deepEqual([s.messages, s.faults.ingestDropped, s.perDevice['f-1'].ingestDropped], [0, 5, 5]);
  emu.setFaults({ ingestLoss: 0, processingDelayMs: 1500 });
  await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ sequence: 6 }), { qos: 1 });
  assert.equal((await fetchStats(emu.restUrl)).messages, 0, 'acknowledged before it is stored');
  await waitFor('stored after the delay', async () => (await fetchStats(emu.restUrl)).messages === 1);
  s = await fetchStats(emu.restUrl);
  assert.deepEqual([s.perDevice['f-1'].sequences, s.perDevice['f-1'].gaps], [1, 5]);
});

test('idle sessions expire after the inactivity timeout; PINGREQ keeps them alive', async (t) => {
  const emu = await fleet(t, 2, { sessionInactivityTimeoutMs: 1000 });
  const idle = (await connect(emu.mqttUrl, { username: 'F1', keepalive: 0, protocolVersion: 5 })) as MqttClient;
  const pinging = (await connect(emu.mqttUrl, { username: 'F2', keepalive: 0 })) as MqttClient;
  t.after(() => {
    idle.end(true);
    pinging.end(true);
  });
  const reason = new Promise<number | undefined>((r) => idle.once('disconnect', (p) => r(p.reasonCode)));
  const timer = setInterval(() => (pinging as unknown as { _sendPacket(p: object): void })._sendPacket({ cmd: 'pingreq' }), 100);
  t.after(() => clearInterval(timer));
  assert.equal(await reason, 0x83);
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(pinging.connected, true);
  assert.equal((await fetchStats(emu.restUrl)).connections.closed['idle-timeout'], 1);
});

test('one-off outages over HTTP: POST /__emulator/drop closes live sessions, /__emulator/stall pauses reading', async (t) => {
  const emu = await fleet(t, 3);
  const clients = await Promise.all(['F1', 'F2', 'F3'].map((u) => connect(emu.mqttUrl, { username: u }) as Promise<MqttClient>));
  t.after(() => clients.forEach((c) => c.end(true)));
  const allClosed = Promise.all(clients.map((c) => new Promise<void>((r) => c.once('close', () => r()))));
  const drop = await rest(emu.restUrl, 'POST', '/__emulator/drop');
  assert.deepEqual(drop.body, { dropped: 3 });
  await allClosed;
  assert.equal((await fetchStats(emu.restUrl)).connections.current, 0);
  const stall = await rest(emu.restUrl, 'POST', '/__emulator/stall?ms=100');
  assert.deepEqual(stall.body, { stalledMs: 100 });
  const bad = await rest(emu.restUrl, 'POST', '/__emulator/stall?ms=soon');
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /stallMs: "soon" is not a number/);
});
