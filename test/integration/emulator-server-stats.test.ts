// The emulator's imitation of ThingsBoard's own statistics, over real sockets:
// QUEUE_STATS entities (QueueStatsController, DefaultRuleEngineStatisticsService), their latest values
// through POST /api/entitiesQuery/find (EntityQueryController), the tenant's API_USAGE_STATE counters
// (TelemetryController + AccessValidator.validateApiUsageState), GET /api/admin/systemInfo
// (AdminController, SYS_ADMIN only) and the opt-in /actuator/prometheus (DefaultStatsFactory names).
// Each fault moves its own series: processing delay → timeoutMsgs, ingest loss → failedMsgs and
// missing storage points, a transport rate limit → fewer transport messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmulator, rest, restLogin, createDevice, type StartedEmulator } from '../helpers/emulator.js';
import { waitFor } from '../helpers/wait.js';
import { parsePrometheusText, sumOf } from '../../src/thingsboard/prometheus.js';

async function device(t: Parameters<typeof startEmulator>[0], opts: Parameters<typeof startEmulator>[1] = {}) {
  const emu = await startEmulator(t, { serverStats: { intervalSec: 0.5, prometheus: true }, ...opts });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'd-1', 'D1');
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: 'D1', reconnectPeriod: 0 });
  t.after(() => c.end(true));
  return { emu, token, c };
}

/** Publishes n QoS 1 messages; returns how many were acknowledged (a rate-limit close ends the wait). */
async function publish(c: MqttClient, n: number): Promise<number> {
  let acked = 0;
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  await Promise.race([
    Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ sequence: i + 1, t: 20.5 }), { qos: 1 }).then(() => acked++),
      ),
    ),
    closed,
  ]);
  return acked;
}

async function prom(emu: StartedEmulator) {
  const r = await rest(emu.restUrl, 'GET', '/actuator/prometheus');
  assert.equal(r.status, 200);
  const exp = parsePrometheusText(r.body);
  const re = (s: string) => sumOf(exp, 'ruleEngine_Main_total', { statsName: s, tenantId: 'system' }).value;
  return { exp, success: re('successfulMsgs'), timeout: re('timeoutMsgs'), failed: re('failedMsgs'), total: re('totalMsgs') };
}

async function usage(emu: StartedEmulator, token: string) {
  const q = await rest(emu.restUrl, 'POST', '/api/entitiesQuery/find', {
    token,
    body: {
      entityFilter: { type: 'apiUsageState' },
      pageLink: { page: 0, pageSize: 1 },
      latestValues: ['transportMsgCount', 'transportDataPointsCount', 'storageDataPointsCount', 'ruleEngineExecutionCount'].map((key) => ({
        type: 'TIME_SERIES',
        key,
      })),
    },
  });
  assert.equal(q.status, 200);
  const row = q.body.data[0];
  const n = (k: string) => Number(row.latest.TIME_SERIES[k].value);
  return {
    id: row.entityId.id as string,
    transport: n('transportMsgCount'),
    transportPoints: n('transportDataPointsCount'),
    storage: n('storageDataPointsCount'),
  };
}

test('queue stats: one QUEUE_STATS entity; windows of deltas fed by processed messages; API usage counters', async (t) => {
  const { emu, token, c } = await device(t);
  const list = await rest(emu.restUrl, 'GET', '/api/queueStats?pageSize=10&page=0', { token });
  assert.equal(list.status, 200);
  assert.equal(list.body.totalElements, 1);
  const qs = list.body.data[0];
  assert.deepEqual(
    [qs.id.entityType, qs.queueName, typeof qs.serviceId, qs.tenantId.entityType],
    ['QUEUE_STATS', 'Main', 'string', 'TENANT'],
  );
  // the plain telemetry read is not implemented for QUEUE_STATS (AccessValidator)
  assert.equal((await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/QUEUE_STATS/${qs.id.id}/values/timeseries`, { token })).status, 500);

  assert.equal(await publish(c, 30), 30);
  await waitFor('a window with 30 messages', async () => (await usage(emu, token)).transport === 30, 5000, 100);
  const u = await usage(emu, token);
  assert.deepEqual([u.transportPoints, u.storage], [60, 60]);
  const p = await prom(emu);
  assert.deepEqual([p.total, p.success, p.timeout, p.failed], [30, 30, 0, 0]);
  const q = await rest(emu.restUrl, 'POST', '/api/entitiesQuery/find', {
    token,
    body: {
      entityFilter: { type: 'entityType', entityType: 'QUEUE_STATS' },
      pageLink: { page: 0, pageSize: 10 },
      latestValues: [
        { type: 'TIME_SERIES', key: 'successfulMsgs' },
        { type: 'TIME_SERIES', key: 'totalMsgs' },
      ],
    },
  });
  assert.equal(q.status, 200);
  const latest = q.body.data[0].latest.TIME_SERIES;
  assert.equal(q.body.data[0].entityId.id, qs.id.id);
  // the latest window holds a delta: at most the 30 messages, all successful
  assert.ok(Number(latest.successfulMsgs.value) > 0 && Number(latest.successfulMsgs.value) <= 30);
  assert.equal(latest.successfulMsgs.value, latest.totalMsgs.value);
  // the REST read of API usage (tenant admin): cycle key stamped at the month's start
  const ts = await rest(
    emu.restUrl,
    'GET',
    `/api/plugins/telemetry/API_USAGE_STATE/${u.id}/values/timeseries?keys=transportMsgCount,transportMsgCountHourly`,
    { token },
  );
  assert.equal(ts.status, 200);
  assert.equal(ts.body.transportMsgCount[0].value, '30');
  assert.equal(new Date(ts.body.transportMsgCount[0].ts).getUTCDate(), 1);
  assert.equal(ts.body.transportMsgCountHourly[0].value, '30');
  const conn = sumOf(p.exp, 'thingsboard_transport_connections_active', { protocol: 'MQTT' });
  assert.deepEqual(conn, { value: 1, found: true });
});

test('processing delay beyond the pack timeout → timeoutMsgs; storage still catches up', async (t) => {
  const { emu, token, c } = await device(t, { faults: { processingDelayMs: 2100 } });
  assert.equal(await publish(c, 10), 10);
  assert.equal((await prom(emu)).timeout, 0, 'not timed out before the pack timeout');
  await waitFor('timeouts', async () => (await prom(emu)).timeout === 10, 6000, 100);
  const p = await prom(emu);
  assert.deepEqual([p.success, p.failed, p.total], [0, 0, 10]);
  await waitFor('usage report', async () => (await usage(emu, token)).storage === 20, 5000, 100);
});

test('ingest loss → failedMsgs and storage points below transport points', async (t) => {
  const { emu, token, c } = await device(t, { faults: { ingestLoss: 1 } });
  assert.equal(await publish(c, 12), 12, 'acknowledged all the same');
  await waitFor('usage report', async () => (await usage(emu, token)).transport === 12, 5000, 100);
  const u = await usage(emu, token);
  assert.deepEqual([u.transportPoints, u.storage], [24, 0]);
  const p = await prom(emu);
  assert.deepEqual([p.failed, p.success], [12, 0]);
  assert.equal(sumOf(p.exp, 'ts_queue_0_total', { statsName: 'failedMsgs' }).value, 12);
});

test('a transport rate limit: refused messages are not counted as transport messages', async (t) => {
  const { emu, token, c } = await device(t, { rateLimits: { device: '5:60' } });
  await publish(c, 10);
  await waitFor('usage report', async () => (await usage(emu, token)).transport === 5, 5000, 100);
  assert.equal((await prom(emu)).total, 5);
});

test('system info: a sysadmin only; tenant gets ThingsBoard 403; the sysadmin cannot use the tenant API', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const denied = await rest(emu.restUrl, 'GET', '/api/admin/systemInfo', { token });
  assert.equal(denied.status, 403);
  assert.deepEqual([denied.body.errorCode, denied.body.message], [20, "You don't have permission to perform this operation!"]);
  const sys = await restLogin(emu.restUrl, 'sysadmin@thingsboard.org', 'sysadmin');
  const info = await rest(emu.restUrl, 'GET', '/api/admin/systemInfo', { token: sys.token });
  assert.equal(info.status, 200);
  assert.equal(info.body.monolith, true);
  const d = info.body.systemData[0];
  for (const k of ['cpuUsage', 'memoryUsage', 'discUsage', 'cpuCount', 'totalMemory']) assert.equal(typeof d[k], 'number', k);
  assert.ok(d.memoryUsage > 0 && d.memoryUsage <= 100);
  assert.equal((await rest(emu.restUrl, 'GET', '/api/tenant/devices?pageSize=1&page=0', { token: sys.token })).status, 403);
  // queue stats: a sysadmin sees the system tenant's, none here
  assert.equal((await rest(emu.restUrl, 'GET', '/api/queueStats?pageSize=10&page=0', { token: sys.token })).body.totalElements, 0);
  // Prometheus is opt-in
  assert.equal((await rest(emu.restUrl, 'GET', '/actuator/prometheus')).status, 404);
});

test('device attribute posts count as transport messages handled by the rule engine', async (t) => {
  const { emu, token, c } = await device(t);
  await c.publishAsync('v1/devices/me/attributes', JSON.stringify({ firmware: '1.2', mode: 'eco' }), { qos: 1 });
  await waitFor('usage report', async () => (await usage(emu, token)).transport === 1, 5000, 100);
  assert.deepEqual([(await usage(emu, token)).transportPoints, (await prom(emu)).success], [2, 1]);
});
