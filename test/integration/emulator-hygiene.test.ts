// The emulator protecting itself: its /__emulator control endpoints refuse other origins and can
// require a token; sockets that never complete a CONNECT are closed after a connect timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt from 'mqtt';
import { startEmulator, rest, restLogin } from '../helpers/emulator.js';

test('/__emulator refuses cross-origin requests; its own origin and no Origin are served', async (t) => {
  const emu = await startEmulator(t);
  const own = `http://127.0.0.1:${emu.httpPort}`;
  assert.equal((await rest(emu.restUrl, 'GET', '/__emulator/stats')).status, 200);
  assert.equal((await rest(emu.restUrl, 'GET', '/__emulator/stats', { headers: { Origin: own } })).status, 200);
  for (const origin of ['http://evil.example', `http://localhost:${emu.httpPort}`, 'null']) {
    const r = await rest(emu.restUrl, 'PUT', '/__emulator/faults', { headers: { Origin: origin }, body: { ingestLoss: 1 } });
    assert.equal(r.status, 403, origin);
    assert.match(r.body.error, /cross-origin/);
    assert.equal((await rest(emu.restUrl, 'POST', '/__emulator/drop', { headers: { Origin: origin } })).status, 403);
  }
  assert.equal(emu.faults.ingestLoss, 0, 'the refused PUT changed nothing');
  // ThingsBoard's own API is not affected
  const credentials = { username: 'tenant@thingsboard.org', password: 'tenant' };
  const login = await rest(emu.restUrl, 'POST', '/api/auth/login', { headers: { Origin: 'http://evil.example' }, body: credentials });
  assert.equal(login.status, 200);
});

test('a control token guards every /__emulator endpoint and is never echoed', async (t) => {
  const secret = 'ctl-Secret-42';
  const emu = await startEmulator(t, { controlToken: secret });
  const endpoints = [
    ['GET', '/__emulator/stats'],
    ['GET', '/__emulator/faults'],
    ['PUT', '/__emulator/faults'],
    ['POST', '/__emulator/stall?ms=1'],
  ];
  for (const [method, path] of endpoints) {
    const none = await rest(emu.restUrl, method, path, { body: method === 'PUT' ? {} : undefined });
    assert.equal(none.status, 401, `${method} ${path}`);
    assert.ok(!JSON.stringify(none.body).includes(secret));
    const headers = { 'X-Emulator-Token': 'ctl-Secret-43' };
    const wrong = await rest(emu.restUrl, method, path, { headers, body: method === 'PUT' ? {} : undefined });
    assert.equal(wrong.status, 401);
  }
  assert.equal((await rest(emu.restUrl, 'GET', '/__emulator/stats', { headers: { 'X-Emulator-Token': secret } })).status, 200);
  assert.equal((await rest(emu.restUrl, 'GET', '/__emulator/faults', { headers: { Authorization: `Bearer ${secret}` } })).status, 200);
  const { token } = await restLogin(emu.restUrl);
  assert.ok(token, 'the ThingsBoard API needs no control token');
});

/** Opens a raw TCP socket, writes `bytes`, resolves how long until the server closed it (or null after `ms`). */
async function closedAfter(port: number, bytes: Buffer, ms: number): Promise<number | null> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  const start = Date.now();
  if (bytes.length) sock.write(bytes);
  const r = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });
  sock.destroy();
  return r;
}

// ThingsBoard's MqttTransportServerInitializer.initChannel adds no idle handler: a socket that never sends CONNECT
// stays open there (connectTimeoutMs: 0 here); by default the emulator closes it after its connect timeout.
test('conformance: sockets that never complete a CONNECT: kept as ThingsBoard does (0) or closed after the connect timeout', async (t) => {
  const emu = await startEmulator(t, { connectTimeoutMs: 300 });
  const silent = await closedAfter(emu.mqttPort, Buffer.alloc(0), 3000);
  assert.ok(silent !== null && silent >= 250 && silent < 2000, `silent socket closed after ${silent} ms`);
  const half = await closedAfter(emu.mqttPort, Buffer.from([0x10, 0x20, 0x00, 0x04]), 3000); // a CONNECT cut short
  assert.ok(half !== null && half < 2000, `half CONNECT closed after ${half} ms`);
  // a session that connected is not touched by the connect timeout
  const { token } = await restLogin(emu.restUrl);
  await rest(emu.restUrl, 'POST', '/api/device?accessToken=HY', { token, body: { name: 'hy' } });
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: 'HY', reconnectPeriod: 0, keepalive: 0 });
  t.after(() => c.endAsync());
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(c.connected, true);

  const tb = await startEmulator(t, { connectTimeoutMs: 0, sessionInactivityTimeoutMs: 600_000 });
  assert.equal(await closedAfter(tb.mqttPort, Buffer.alloc(0), 1200), null, 'connectTimeoutMs 0: kept open, as ThingsBoard');
});
