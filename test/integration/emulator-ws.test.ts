// The emulator's WebSocket telemetry API over real sockets: auth command and its close codes,
// snapshot-then-updates envelopes, attributes, errors, the legacy endpoint and processing delay.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startEmulator, rest, restLogin, createDevice, type StartedEmulator } from '../helpers/emulator.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';

interface Client {
  ws: WebSocket;
  /** Next message (parsed), in arrival order. */
  next(timeoutMs?: number): Promise<any>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

function open(t: TestContext, url: string): Promise<Client> {
  const ws = new WebSocket(url);
  t.after(() => ws.terminate());
  const queue: any[] = [];
  const waiters: ((m: any) => void)[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const next = (timeoutMs = 10_000) =>
    queue.length
      ? Promise.resolve(queue.shift())
      : new Promise<any>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no WebSocket message in time')), timeoutMs);
          waiters.push((m) => {
            clearTimeout(timer);
            resolve(m);
          });
        });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, next, closed }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function setup(t: TestContext, opts: EmulatorOptions = {}) {
  const emu = await startEmulator(t, opts);
  const { token, refreshToken } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'ws-1', 'WS1');
  const wsUrl = emu.restUrl.replace(/^http/, 'ws');
  return { emu, token, refreshToken, id, wsUrl };
}

const post = (emu: StartedEmulator, body: unknown) => rest(emu.restUrl, 'POST', '/api/v1/WS1/telemetry', { body });

test('authCmd + TIMESERIES: a snapshot of the latest values, then one update per stored row', async (t) => {
  const { emu, token, id, wsUrl } = await setup(t);
  assert.equal((await post(emu, { ts: 1000, values: { temperature: 21.5, sequence: 1, status: 'ok' } })).status, 200);
  const c = await open(t, `${wsUrl}/api/ws`);
  c.ws.send(
    JSON.stringify({
      authCmd: { cmdId: 0, token },
      cmds: [
        { type: 'TIMESERIES', entityType: 'DEVICE', entityId: id, scope: 'LATEST_TELEMETRY', cmdId: 10, keys: 'temperature,sequence' },
      ],
    }),
  );
  const snap = await c.next();
  assert.deepEqual(snap, {
    subscriptionId: 10,
    errorCode: 0,
    errorMsg: null,
    data: { sequence: [[1000, '1']], temperature: [[1000, '21.5']] },
    latestValues: { sequence: 1000, temperature: 1000 },
  });
  assert.deepEqual(Object.keys(snap.data), ['sequence', 'temperature'], 'keys sorted');
  await post(emu, { ts: 2000, values: { temperature: 22, humidity: 40 } });
  const u = await c.next();
  assert.deepEqual(u, {
    subscriptionId: 10,
    errorCode: 0,
    errorMsg: null,
    data: { temperature: [[2000, '22']] },
    latestValues: { temperature: 2000 },
  });
  // all keys when `keys` is omitted; unsubscribe stops updates for that cmdId
  c.ws.send(
    JSON.stringify({
      cmds: [
        { type: 'TIMESERIES', entityType: 'DEVICE', entityId: id, cmdId: 11 },
        { type: 'TIMESERIES_UNSUBSCRIBE', cmdId: 10 },
      ],
    }),
  );
  const all = await c.next();
  assert.equal(all.subscriptionId, 11);
  assert.deepEqual(Object.keys(all.data), ['humidity', 'sequence', 'status', 'temperature']);
  await post(emu, { ts: 3000, values: { temperature: 23 } });
  const after = await c.next();
  assert.equal(after.subscriptionId, 11, 'no more updates for the unsubscribed cmdId');
  assert.deepEqual(after.data, { temperature: [[3000, '23']] });
});

test('auth: missing authCmd and a late one close 1008, a bad or refresh token 1007, a bad ?token= 1011', async (t) => {
  const { refreshToken, wsUrl } = await setup(t, { wsAuthTimeoutMs: 300 });
  const noAuth = await open(t, `${wsUrl}/api/ws`);
  noAuth.ws.send(JSON.stringify({ cmds: [] }));
  assert.deepEqual(await noAuth.closed, { code: 1008, reason: 'Auth cmd is missing' });

  const silent = await open(t, `${wsUrl}/api/ws`);
  assert.equal((await silent.closed).code, 1008, 'no authCmd within the auth timeout');

  for (const bad of ['not-a-jwt', refreshToken]) {
    const c = await open(t, `${wsUrl}/api/ws`);
    c.ws.send(JSON.stringify({ authCmd: { cmdId: 0, token: bad } }));
    assert.equal((await c.closed).code, 1007);
  }

  const q = await open(t, `${wsUrl}/api/ws?token=nope`);
  assert.equal((await q.closed).code, 1011);
});

test('a text frame over 32 KB closes the session with 1009; the emulator goes on', async (t) => {
  const { emu, token, wsUrl } = await setup(t);
  const big = await open(t, `${wsUrl}/api/ws?token=${token}`);
  big.ws.send('x'.repeat(40_000));
  assert.equal((await big.closed).code, 1009);
  const again = await open(t, `${wsUrl}/api/ws?token=${token}`);
  again.ws.send(JSON.stringify({ cmds: [] }));
  assert.equal(again.ws.readyState, WebSocket.OPEN);
  assert.equal((await rest(emu.restUrl, 'GET', '/__emulator/stats')).status, 200);
});

test('bad commands are answered with errorCode 2 in the update envelope; the session stays', async (t) => {
  const { token, id, wsUrl } = await setup(t);
  const c = await open(t, `${wsUrl}/api/ws?token=${token}`);
  c.ws.send(JSON.stringify({ cmds: [{ type: 'TIMESERIES', entityType: 'DEVICE', entityId: id, cmdId: -1 }] }));
  assert.deepEqual(await c.next(), { subscriptionId: -1, errorCode: 2, errorMsg: 'Cmd id is negative value!', data: {}, latestValues: {} });
  c.ws.send(JSON.stringify({ cmds: [{ type: 'TIMESERIES', entityType: 'DEVICE', entityId: '', cmdId: 2 }] }));
  assert.equal((await c.next()).errorMsg, 'Device id is empty!');
  c.ws.send('{oops');
  assert.equal((await c.next()).errorMsg, 'Failed to parse the payload');
  c.ws.send(
    JSON.stringify({ cmds: [{ type: 'TIMESERIES', entityType: 'DEVICE', entityId: '00000000-0000-0000-0000-000000000001', cmdId: 3 }] }),
  );
  const missing = await c.next();
  assert.equal(missing.subscriptionId, 3);
  assert.equal(missing.errorCode, 2);
  assert.equal(c.ws.readyState, WebSocket.OPEN);
});

test('ATTRIBUTES: snapshot of a scope, updates when attributes are saved', async (t) => {
  const { emu, token, id, wsUrl } = await setup(t);
  await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body: { mode: 'eco' } });
  const c = await open(t, `${wsUrl}/api/ws`);
  c.ws.send(
    JSON.stringify({
      authCmd: { cmdId: 0, token },
      cmds: [{ type: 'ATTRIBUTES', entityType: 'DEVICE', entityId: id, scope: 'SHARED_SCOPE', cmdId: 5 }],
    }),
  );
  const snap = await c.next();
  assert.equal(snap.subscriptionId, 5);
  assert.equal(snap.data.mode[0][1], 'eco');
  await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, {
    token,
    body: { mode: 'boost', level: 3 },
  });
  const u = await c.next();
  assert.deepEqual(Object.keys(u.data), ['level', 'mode']);
  assert.equal(u.data.level[0][1], '3');
  assert.equal(u.latestValues.mode, u.data.mode[0][0]);
});

test('legacy /api/ws/plugins/telemetry?token= with tsSubCmds; unknown plugins close 1007; /api/ws can be switched off', async (t) => {
  const { emu, token, id, wsUrl } = await setup(t, { wsCurrentEndpoint: false });
  await assert.rejects(open(t, `${wsUrl}/api/ws`), /HTTP 404/);
  const other = await open(t, `${wsUrl}/api/ws/plugins/nothing?token=${token}`);
  assert.equal((await other.closed).code, 1007);
  const c = await open(t, `${wsUrl}/api/ws/plugins/telemetry?token=${token}`);
  c.ws.send(
    JSON.stringify({
      tsSubCmds: [{ entityType: 'DEVICE', entityId: id, scope: 'LATEST_TELEMETRY', cmdId: 1, keys: 'sequence' }],
      historyCmds: [],
      attrSubCmds: [],
    }),
  );
  const snap = await c.next();
  assert.deepEqual(snap.data, {}, 'nothing stored yet');
  await post(emu, { sequence: 7 });
  const u = await c.next();
  assert.equal(u.subscriptionId, 1);
  assert.equal(u.data.sequence[0][1], '7');
});

test('processing delay: the update is pushed when the row is stored, after the delay', async (t) => {
  const { emu, token, id, wsUrl } = await setup(t, { faults: { processingDelayMs: 300 } });
  const c = await open(t, `${wsUrl}/api/ws`);
  c.ws.send(
    JSON.stringify({
      authCmd: { cmdId: 0, token },
      cmds: [{ type: 'TIMESERIES', entityType: 'DEVICE', entityId: id, cmdId: 1, keys: 'sequence' }],
    }),
  );
  await c.next();
  const sentAt = Date.now();
  assert.equal((await post(emu, { sequence: 1 })).status, 200);
  const u = await c.next();
  assert.equal(u.data.sequence[0][1], '1');
  assert.ok(Date.now() - sentAt >= 295, `update came ${Date.now() - sentAt} ms after the publish`);
});

/** True when no message arrives within `ms`. */
async function silentFor(c: Client, ms = 300): Promise<boolean> {
  let n = 0;
  const count = () => n++;
  c.ws.on('message', count);
  await new Promise((r) => setTimeout(r, ms));
  c.ws.off('message', count);
  return n === 0;
}

// TbWebSocketHandler.processMsg reads `/api/ws` as WsCommandsWrapper (authCmd, cmds) and the legacy endpoint as
// TelemetryCmdsWrapper (tsSubCmds, attrSubCmds; toCommonCmdsWrapper drops any authCmd); other fields are ignored
// (JacksonUtil: FAIL_ON_UNKNOWN_PROPERTIES off).
test('conformance: each WebSocket endpoint accepts only its own command form', async (t) => {
  const { token, id, wsUrl } = await setup(t);
  const sub = { entityType: 'DEVICE', entityId: id, cmdId: 1, keys: 't' };
  const general = await open(t, `${wsUrl}/api/ws`);
  general.ws.send(JSON.stringify({ authCmd: { cmdId: 0, token }, tsSubCmds: [sub] }));
  assert.ok(await silentFor(general), 'tsSubCmds on /api/ws are ignored');
  general.ws.send(JSON.stringify({ cmds: [{ ...sub, type: 'TIMESERIES', cmdId: 2 }] }));
  assert.equal((await general.next()).subscriptionId, 2);

  const legacy = await open(t, `${wsUrl}/api/ws/plugins/telemetry?token=${token}`);
  legacy.ws.send(JSON.stringify({ cmds: [{ ...sub, type: 'TIMESERIES' }] }));
  assert.ok(await silentFor(legacy), 'cmds on the legacy endpoint are ignored');
  legacy.ws.send(JSON.stringify({ tsSubCmds: [{ ...sub, cmdId: 3 }] }));
  assert.equal((await legacy.next()).subscriptionId, 3);

  const legacyAuthCmd = await open(t, `${wsUrl}/api/ws/plugins/telemetry`);
  legacyAuthCmd.ws.send(JSON.stringify({ authCmd: { cmdId: 0, token }, tsSubCmds: [sub] }));
  const closed = await legacyAuthCmd.closed;
  assert.deepEqual(closed, { code: 1008, reason: 'Auth cmd is missing' }, 'the legacy endpoint authenticates by ?token= only');
});

// DefaultWebSocketService.handleWsTimeSeriesSubscriptionByKeys: a timeWindow reads [startTs, startTs + timeWindow)
// with the command's startTs (0 when absent); DefaultTbLocalSubscriptionService.onTimeSeriesUpdate drops updates
// older than the key's state for scope LATEST_TELEMETRY (TbTimeSeriesSubscription.latestValues), not otherwise.
test('conformance: timeWindow without startTs starts at 0; LATEST_TELEMETRY drops updates older than the last sent', async (t) => {
  const { emu, token, id, wsUrl } = await setup(t);
  const now = Date.now();
  await post(emu, { ts: now - 5000, values: { t: 1 } });
  const c = await open(t, `${wsUrl}/api/ws`);
  const cmd = { type: 'TIMESERIES', entityType: 'DEVICE', entityId: id, keys: 't' };
  c.ws.send(JSON.stringify({ authCmd: { cmdId: 0, token }, cmds: [{ ...cmd, cmdId: 1, timeWindow: 60_000 }] }));
  assert.deepEqual((await c.next()).data, {}, 'the window is [0, 60 s) of 1970');
  c.ws.send(JSON.stringify({ cmds: [{ ...cmd, cmdId: 2, timeWindow: 60_000, startTs: now - 30_000 }] }));
  assert.deepEqual((await c.next()).data, { t: [[now - 5000, '1']] });

  const latest = await open(t, `${wsUrl}/api/ws`);
  latest.ws.send(JSON.stringify({ authCmd: { cmdId: 0, token }, cmds: [{ ...cmd, cmdId: 5, scope: 'LATEST_TELEMETRY' }] }));
  assert.deepEqual((await latest.next()).data, { t: [[now - 5000, '1']] });
  const any = await open(t, `${wsUrl}/api/ws`);
  any.ws.send(JSON.stringify({ authCmd: { cmdId: 0, token }, cmds: [{ ...cmd, cmdId: 6 }] }));
  await any.next();
  await post(emu, { ts: now - 9000, values: { t: 2 } });
  assert.deepEqual((await any.next()).data, { t: [[now - 9000, '2']] }, 'without LATEST_TELEMETRY an older row is pushed');
  assert.ok(await silentFor(latest), 'LATEST_TELEMETRY: an older row is not pushed');
  await post(emu, { ts: now - 1000, values: { t: 3 } });
  assert.deepEqual((await latest.next()).data, { t: [[now - 1000, '3']] });
});
