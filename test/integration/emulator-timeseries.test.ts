// Time-series read-back with ThingsBoard's shapes (latest, history, agg=COUNT buckets, limits and
// errors), the REST save/delete endpoints, the HTTP device API, and device activity attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, rest, restLogin, createDevice, fetchDeviceStats } from '../helpers/emulator.js';

async function setup(t: Parameters<typeof startEmulator>[0]) {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'ts-dev', 'TS_TOKEN');
  const ts = (query: string) => rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?${query}`, { token });
  return { emu, token, id, ts };
}

test('HTTP device API stores telemetry rows with client ts; timeseries reads use ThingsBoard shapes', async (t) => {
  const { emu, ts } = await setup(t);
  const rows = Array.from({ length: 10 }, (_, i) => ({
    ts: 10_000 + i * 1000,
    values: { temp: 20 + i, sequence: i + 1, note: i % 2 ? 'odd' : null },
  }));
  const post = await rest(emu.restUrl, 'POST', '/api/v1/TS_TOKEN/telemetry', { body: rows });
  assert.deepEqual([post.status, post.body], [200, '']);

  const latest = await ts('keys=temp,note,absent');
  assert.deepEqual(latest.body, { temp: [{ ts: 19_000, value: '29' }], note: [{ ts: 19_000, value: 'odd' }] });
  const strict = await ts('keys=temp&useStrictDataTypes=true');
  assert.deepEqual(strict.body.temp, [{ ts: 19_000, value: 29 }]);

  const hist = await ts('keys=temp&startTs=12000&endTs=15000');
  assert.deepEqual(
    hist.body.temp.map((p: { ts: number }) => p.ts),
    [14_000, 13_000, 12_000],
    'half-open range, DESC by default',
  );
  const asc = await ts('keys=temp&startTs=0&endTs=100000&orderBy=ASC&limit=3');
  assert.deepEqual(
    asc.body.temp.map((p: { value: string }) => p.value),
    ['20', '21', '22'],
  );
  const empty = await ts('keys=temp&startTs=0&endTs=5000');
  assert.deepEqual(empty.body, {}, 'keys without data are omitted');

  const count = await ts('keys=temp,note&startTs=10000&endTs=20000&agg=COUNT&interval=10000');
  assert.deepEqual(count.body, { temp: [{ ts: 15_000, value: '10' }], note: [{ ts: 15_000, value: '5' }] });
  const buckets = await ts('keys=temp&startTs=10000&endTs=20000&agg=COUNT&interval=4000&orderBy=ASC&useStrictDataTypes=true');
  assert.deepEqual(
    buckets.body.temp,
    [
      { ts: 12_000, value: 4 },
      { ts: 16_000, value: 4 },
      { ts: 19_000, value: 2 },
    ],
    'bucket ts = midpoint, last bucket clipped',
  );
  const noInterval = await ts('keys=temp&startTs=10000&endTs=20000&agg=COUNT');
  assert.equal(noInterval.body.temp.length, 10, 'agg with interval 0 is treated as NONE');
  const avg = await ts('keys=temp&startTs=10000&endTs=20000&agg=AVG&interval=10000');
  assert.deepEqual(avg.body.temp, [{ ts: 15_000, value: '24.5' }]);
  const tooMany = await ts('keys=temp&startTs=0&endTs=1000000&agg=COUNT&interval=1000');
  assert.equal(tooMany.status, 400);
  assert.match(tooMany.body, /^Incorrect TsKvQuery\. Number of intervals is to high - 1000\./);

  const d = await fetchDeviceStats(emu.restUrl, 'ts-dev');
  assert.deepEqual([d.messages, d.sequences, d.dataPoints, d.firstTs, d.lastTs], [1, 10, 25, 10_000, 19_000]);
});

test('timeseries save and delete over REST; key lists', async (t) => {
  const { emu, token, id, ts } = await setup(t);
  const base = `/api/plugins/telemetry/DEVICE/${id}`;
  assert.equal(
    (
      await rest(emu.restUrl, 'POST', `${base}/timeseries/ANY`, {
        token,
        body: [
          { ts: 1000, values: { k: 1 } },
          { ts: 2000, values: { k: 2, j: 7 } },
        ],
      })
    ).status,
    200,
  );
  assert.deepEqual((await rest(emu.restUrl, 'GET', `${base}/keys/timeseries`, { token })).body.sort(), ['j', 'k']);
  const bad = await rest(emu.restUrl, 'POST', `${base}/timeseries/ANY`, { token, body: '[1' });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /^Unable to parse time series payload: Invalid JSON body/);
  const del = await rest(emu.restUrl, 'DELETE', `${base}/timeseries/delete?keys=k&startTs=0&endTs=1500`, { token });
  assert.equal(del.status, 200);
  const count = await ts('keys=k,j&startTs=0&endTs=10000&agg=COUNT&interval=10000&useStrictDataTypes=true');
  assert.deepEqual(count.body, { k: [{ ts: 5000, value: 1 }], j: [{ ts: 5000, value: 1 }] });
  await rest(emu.restUrl, 'DELETE', `${base}/timeseries/delete?keys=k&deleteAllDataForKeys=true`, { token });
  assert.deepEqual((await ts('keys=k&startTs=0&endTs=10000&agg=COUNT&interval=10000')).body, {});
  assert.deepEqual((await ts('keys=k')).body, {}, 'latest deleted too');
  const noKeys = await rest(emu.restUrl, 'DELETE', `${base}/timeseries/delete?deleteAllDataForKeys=true`, { token });
  assert.deepEqual([noKeys.status, noKeys.body], [400, 'Empty keys: []']);
});

test('HTTP device API: 401 for unknown tokens, 500 text for bad JSON, attributes in and out', async (t) => {
  const { emu, token, id } = await setup(t);
  assert.deepEqual(await rest(emu.restUrl, 'POST', '/api/v1/NOPE/telemetry', { body: { a: 1 } }).then((r) => [r.status, r.body]), [
    401,
    '',
  ]);
  const bad = await rest(emu.restUrl, 'POST', '/api/v1/TS_TOKEN/telemetry', { body: '{oops' });
  assert.equal(bad.status, 500);
  assert.ok(bad.body.length > 0);
  assert.equal((await rest(emu.restUrl, 'POST', '/api/v1/TS_TOKEN/attributes', { body: { fw: 'v2' } })).status, 200);
  assert.equal((await rest(emu.restUrl, 'POST', '/api/v1/TS_TOKEN/attributes', { body: [1] })).status, 500);
  await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body: { mode: 'eco' } });
  const got = await rest(emu.restUrl, 'GET', '/api/v1/TS_TOKEN/attributes?clientKeys=fw&sharedKeys=mode');
  assert.deepEqual(got.body, { client: { fw: 'v2' }, shared: { mode: 'eco' } });
  const plain = await rest(emu.restUrl, 'POST', '/api/v1/TS_TOKEN/telemetry', {
    body: '{"sequence":1}',
    headers: { 'Content-Type': 'text/plain' },
  });
  assert.equal(plain.status, 200, 'any content type is read as text');
});

test('activity attributes: active after activity, lastConnect/lastDisconnect, inactivity timeout', async (t) => {
  // the emulator's clock runs ahead on demand instead of the test sleeping through the timeout
  let ahead = 0;
  const emu = await startEmulator(t, { deviceInactivityTimeoutMs: 2000, clock: () => Date.now() + ahead });
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'act', 'ACT');
  const server = async () => {
    const r = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes/SERVER_SCOPE`, { token });
    return Object.fromEntries(r.body.map((a: { key: string; value: unknown }) => [a.key, a.value]));
  };
  assert.deepEqual(await server(), {}, 'no activity attributes before any activity');
  const before = Date.now();
  await rest(emu.restUrl, 'POST', '/api/v1/ACT/telemetry', { body: { a: 1 } });
  const a = await server();
  assert.equal(a.active, true);
  assert.ok(a.lastActivityTime >= before);
  ahead = 1900;
  assert.equal((await server()).active, true, 'still active 1.9 s later');
  ahead = 2300;
  assert.equal((await server()).active, false);
  const infos = await rest(emu.restUrl, 'GET', '/api/tenant/deviceInfos?pageSize=10&page=0&active=false', { token });
  assert.equal(infos.body.totalElements, 1);
  const { default: mqtt } = await import('mqtt');
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: 'ACT', reconnectPeriod: 0 });
  const b = await server();
  assert.equal(b.active, true);
  assert.ok(b.lastConnectTime >= a.lastActivityTime);
  await c.endAsync();
  await new Promise((r) => setTimeout(r, 100));
  const after = await server();
  assert.ok(after.lastDisconnectTime >= b.lastConnectTime);
  assert.equal(after.active, true, 'a disconnect does not clear active');
});
