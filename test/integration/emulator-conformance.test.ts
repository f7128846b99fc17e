// Conformance tests: each one checks a ThingsBoard behaviour the emulator imitates and names the
// ThingsBoard source it follows (thingsboard/thingsboard on GitHub). Every test here whose name
// starts with "conformance:" has a row in docs/emulator.md (checked by test/unit/emulator-doc.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { startEmulator, rest, restLogin, createDevice, fetchDeviceStats } from '../helpers/emulator.js';
import { waitFor } from '../helpers/wait.js';

const telemetryOverHttp = (restUrl: string, accessToken: string, body: unknown) =>
  rest(restUrl, 'POST', `/api/v1/${accessToken}/telemetry`, { body });

// DeviceController.getTenantDeviceInfos (`@RequestParam(required = false) Boolean active`),
// TelemetryController.getTimeseries (`Boolean useStrictDataTypes`), TelemetryController.deleteEntityTimeseries
// (`boolean deleteAllDataForKeys`, `boolean deleteLatest`): Spring converts them with StringToBooleanConverter.
test('conformance: query-string booleans are read as Spring reads them (True, on, 1; bad value 400)', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'busy', 'BUSY');
  await createDevice(emu.restUrl, token, 'quiet', 'QUIET');
  assert.equal((await telemetryOverHttp(emu.restUrl, 'BUSY', { t: 21.5 })).status, 200);
  const infos = async (active: string) => {
    const r = await rest(emu.restUrl, 'GET', `/api/tenant/deviceInfos?pageSize=10&page=0&active=${active}`, { token });
    return r.status === 200 ? r.body.data.map((d: { name: string }) => d.name).sort() : r.status;
  };
  for (const v of ['True', 'true', 'TRUE', ' yes', 'on', '1']) assert.deepEqual(await infos(v), ['busy'], `active=${v}`);
  for (const v of ['False', 'off', '0', 'no']) assert.deepEqual(await infos(v), ['quiet'], `active=${v}`);
  assert.deepEqual(await infos(''), ['busy', 'quiet'], 'active= (empty) is no filter');
  assert.equal(await infos('maybe'), 400);

  const ts = `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=t`;
  assert.deepEqual((await rest(emu.restUrl, 'GET', `${ts}&useStrictDataTypes=True`, { token })).body.t[0].value, 21.5);
  assert.deepEqual((await rest(emu.restUrl, 'GET', `${ts}&useStrictDataTypes=False`, { token })).body.t[0].value, '21.5');

  const delPath = `/api/plugins/telemetry/DEVICE/${id}/timeseries/delete?keys=t&deleteAllDataForKeys=True`;
  const del = await rest(emu.restUrl, 'DELETE', delPath, { token });
  assert.equal(del.status, 200);
  assert.deepEqual((await rest(emu.restUrl, 'GET', ts, { token })).body, {});
});

// AbstractChunkedAggregationTimeseriesDao.findAllAsync walks buckets from startTs and returns them in that order
// (orderBy only sorts raw reads, findAllWithLimit); TimeUtils.calculateIntervalEnd ends a WEEK (Sunday start),
// WEEK_ISO (Monday), MONTH or QUARTER bucket at local midnight in `timeZone`; DefaultTbTelemetryService.getTimeseries.
test('conformance: aggregates come oldest bucket first; WEEK, WEEK_ISO, MONTH, QUARTER buckets follow timeZone', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'cal', 'CAL');
  const at = (iso: string) => Date.parse(iso);
  const rows = ['2026-01-08T12:00:00Z', '2026-01-11T12:00:00Z', '2026-01-31T23:30:00Z', '2026-02-10T00:00:00Z', '2026-03-31T23:00:00Z'].map(
    (iso, i) => ({ ts: at(iso), values: { v: 10 ** i } }),
  );
  assert.equal((await telemetryOverHttp(emu.restUrl, 'CAL', rows)).status, 200);
  const read = async (q: string) => {
    const path = `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=v&useStrictDataTypes=true&${q}`;
    const r = await rest(emu.restUrl, 'GET', path, { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.v ?? []).map((p: { ts: number; value: number }) => [p.ts, p.value]);
  };
  const mid = (a: number, b: number) => a + Math.floor((b - a) / 2);
  const from = at('2026-01-07T00:00:00Z'); // a Wednesday
  const to = at('2026-04-01T00:00:00Z');

  // fixed 30-day buckets, asked newest first: still oldest first
  const day = 86_400_000;
  const fixed = await read(`startTs=${from}&endTs=${to}&agg=SUM&interval=${30 * day}&orderBy=DESC`);
  const [b1, b2] = [from + 30 * day, from + 60 * day];
  assert.deepEqual(fixed, [
    [mid(from, b1), 1 + 10 + 100],
    [mid(b1, b2), 1000],
    [mid(b2, to), 10000],
  ]);

  // MONTH in Berlin: Feb 1 00:00 CET = Jan 31 23:00Z, Mar 1 = Feb 28 23:00Z, Apr 1 00:00 CEST = Mar 31 22:00Z
  const feb = at('2026-01-31T23:00:00Z');
  const mar = at('2026-02-28T23:00:00Z');
  const apr = at('2026-03-31T22:00:00Z');
  const month = await read(`startTs=${from}&endTs=${to}&agg=SUM&intervalType=MONTH&timeZone=Europe/Berlin&orderBy=DESC`);
  assert.deepEqual(month, [
    [mid(from, feb), 1 + 10],
    [mid(feb, mar), 100 + 1000],
    [mid(apr, to), 10000],
  ]);
  const count = await read(`startTs=${from}&endTs=${to}&agg=COUNT&intervalType=MONTH&timeZone=Europe/Berlin`);
  assert.deepEqual(
    count.map((p: number[]) => p[1]),
    [2, 2, 1],
  );

  // the same month in UTC puts the 23:30 row of Jan 31 into January
  const utc = await read(`startTs=${from}&endTs=${to}&agg=SUM&intervalType=MONTH&timeZone=UTC`);
  assert.deepEqual(
    utc.map((p: number[]) => p[1]),
    [1 + 10 + 100, 1000, 10000],
  );

  // first week bucket ends on Sunday Jan 11 (WEEK) or Monday Jan 12 (WEEK_ISO): the Jan 11 noon row moves
  const weekEnd = { WEEK: at('2026-01-11T00:00:00Z'), WEEK_ISO: at('2026-01-12T00:00:00Z') };
  for (const type of ['WEEK', 'WEEK_ISO'] as const) {
    const w = await read(`startTs=${from}&endTs=${at('2026-01-20T00:00:00Z')}&agg=SUM&intervalType=${type}&timeZone=UTC`);
    assert.deepEqual(w[0], [mid(from, weekEnd[type]), type === 'WEEK' ? 1 : 11], type);
  }
  // QUARTER from Feb 15: the first bucket ends Apr 1
  const feb15 = at('2026-02-15T00:00:00Z');
  const q = await read(`startTs=${feb15}&endTs=${at('2026-05-01T00:00:00Z')}&agg=MAX&intervalType=QUARTER&timeZone=UTC`);
  assert.deepEqual(q, [[mid(feb15, to), 10000]]);
  const badPath = `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=v&startTs=${from}&endTs=${to}&agg=SUM&intervalType=week`;
  const bad = await rest(emu.restUrl, 'GET', badPath, { token });
  assert.equal(bad.status, 400);
});

// DeviceActorMessageProcessor.getAttributesKvEntries picks the scopes named in the request (none named: all
// client and shared attributes); JsonConverter.toJson(GetAttributeResponseMsg) leaves out an empty section;
// JsonMqttAdaptor.processGetAttributeRequestMsg reads the key lists with toStringSet (comma split).
test('conformance: MQTT attribute requests answer only the scopes asked for and leave out empty sections', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'attr', 'ATTR');
  const shared = { target: 22, mode: 'eco' };
  await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body: shared });
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: 'ATTR', reconnectPeriod: 0 });
  t.after(() => c.endAsync());
  await c.publishAsync('v1/devices/me/attributes', JSON.stringify({ fw: 'v1.0' }), { qos: 1 });
  await c.subscribeAsync('v1/devices/me/attributes/response/+', { qos: 1 });
  const answers = new Map<string, unknown>();
  c.on('message', (topic, payload) => answers.set(topic.split('/').pop()!, JSON.parse(payload.toString())));
  const ask = async (n: number, body: string) => {
    await c.publishAsync(`v1/devices/me/attributes/request/${n}`, body, { qos: 1 });
    return waitFor(`answer ${n}`, () => answers.get(String(n)));
  };
  assert.deepEqual(await ask(1, JSON.stringify({ clientKeys: 'fw' })), { client: { fw: 'v1.0' } });
  assert.deepEqual(await ask(2, JSON.stringify({ sharedKeys: 'target,nope' })), { shared: { target: 22 } });
  assert.deepEqual(await ask(3, JSON.stringify({ clientKeys: 'nope', sharedKeys: 'nope' })), {});
  assert.deepEqual(await ask(4, JSON.stringify({ clientKeys: '' })), {}, 'an empty string names the key ""');
  assert.deepEqual(await ask(5, '{}'), { client: { fw: 'v1.0' }, shared: { target: 22, mode: 'eco' } });
  // the HTTP device API reads empty parameters as absent (DeviceApiController.getDeviceAttributes)
  const http = await rest(emu.restUrl, 'GET', '/api/v1/ATTR/attributes?clientKeys=&sharedKeys=mode');
  assert.deepEqual(http.body, { shared: { mode: 'eco' } });
});

/** A raw MQTT socket: writes packets, collects every byte the server sends until it closes or `ms` pass. */
async function rawExchange(mqttPort: number, packets: Packet[], version: number, ms = 1500): Promise<{ bytes: Buffer; closed: boolean }> {
  const sock = net.connect(mqttPort, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (b) => chunks.push(b));
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  sock.write(Buffer.concat(packets.map((p) => mqttPacket.generate(p, { protocolVersion: version }))));
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  sock.destroy();
  return { bytes: Buffer.concat(chunks), closed };
}

function parsePackets(bytes: Buffer, version: number): Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const out: Packet[] = [];
  parser.on('packet', (p) => out.push(p));
  parser.parse(bytes);
  return out;
}

const connectPacket = (version: number, fields: Record<string, unknown>): Packet =>
  ({
    cmd: 'connect',
    protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    clean: true,
    keepalive: 60,
    clientId: 'c1',
    ...fields,
  }) as Packet;

// MqttTransportHandler.onValidateDeviceResponse (username "" is present, so: bad username or password) and
// ReturnCodeResolver.getConnectionReturnCode; MqttTransportHandler.createMqttConnAckMsg (sessionPresent = !cleanSession,
// refusals included); Netty's MqttDecoder / MqttCodecUtil.isValidClientId (MQTT 3.1 ids 1–23 characters, else the
// decode fails and MqttTransportHandler.channelRead closes without a CONNACK).
test('conformance: CONNECT edge cases: empty username, MQTT 3.1 client id length, sessionPresent on refusals', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'edge', 'EDGE');
  const connack = async (version: number, fields: Record<string, unknown>) => {
    const r = await rawExchange(emu.mqttPort, [connectPacket(version, fields)], version, 1000);
    type Connack = { cmd: string; returnCode?: number; reasonCode?: number; sessionPresent: boolean };
    const p = parsePackets(r.bytes, version)[0] as Connack | undefined;
    return p && { code: version === 5 ? p.reasonCode : p.returnCode, sessionPresent: p.sessionPresent, closed: r.closed };
  };
  assert.deepEqual(await connack(4, { username: '' }), { code: 5, sessionPresent: false, closed: true });
  assert.deepEqual(await connack(5, { username: '' }), { code: 0x86, sessionPresent: false, closed: true });
  assert.deepEqual(await connack(5, {}), { code: 0x85, sessionPresent: false, closed: true }, 'no credentials, a client id');
  assert.deepEqual(await connack(4, { username: 'NOPE', clean: false }), { code: 5, sessionPresent: true, closed: true });
  assert.deepEqual(await connack(5, { username: 'NOPE', clean: false }), { code: 0x86, sessionPresent: true, closed: true });
  assert.deepEqual(await connack(3, { username: 'EDGE', clientId: 'x'.repeat(23) }), { code: 0, sessionPresent: false, closed: false });
  const long = await rawExchange(emu.mqttPort, [connectPacket(3, { username: 'EDGE', clientId: 'x'.repeat(24) })], 3, 1000);
  assert.deepEqual([long.bytes.length, long.closed], [0, true], 'MQTT 3.1 with a 24-character client id: closed, no CONNACK');
  // 3.1.1 allows long client ids
  assert.deepEqual(await connack(4, { username: 'EDGE', clientId: 'x'.repeat(64) }), { code: 0, sessionPresent: false, closed: false });
});

// MqttTransportHandler.enqueueRegularSessionMsg: packets that arrive before the session is set up wait in a queue;
// at msg_queue_size_per_device_limit (thingsboard.yml, 100) the next one closes the session with QUOTA_EXCEEDED (0x97).
test('conformance: more than 100 packets queued before the session is set up close it with 0x97', async (t) => {
  const emu = await startEmulator(t, { faults: { connectDelayMs: 300 } });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'q100', 'Q100');
  await createDevice(emu.restUrl, token, 'q101', 'Q101');
  const publishes = (n: number): Packet[] =>
    Array.from({ length: n }, (_, i) => {
      const payload = JSON.stringify({ sequence: i + 1 });
      return { cmd: 'publish', topic: 'v1/devices/me/telemetry', payload, qos: 0, dup: false, retain: false } as Packet;
    });
  const ok = await rawExchange(emu.mqttPort, [connectPacket(5, { username: 'Q100' }), ...publishes(100)], 5, 1000);
  assert.deepEqual(
    parsePackets(ok.bytes, 5).map((p) => [p.cmd, (p as { reasonCode?: number }).reasonCode]),
    [['connack', 0]],
  );
  assert.equal((await fetchDeviceStats(emu.restUrl, 'q100')).messages, 100, 'the 100 queued messages are processed after CONNACK');
  const over = await rawExchange(emu.mqttPort, [connectPacket(5, { username: 'Q101' }), ...publishes(101)], 5, 1000);
  assert.deepEqual(
    parsePackets(over.bytes, 5).map((p) => [p.cmd, (p as { reasonCode?: number }).reasonCode]),
    [['disconnect', 0x97]],
  );
  assert.equal(over.closed, true);
  assert.equal((await fetchDeviceStats(emu.restUrl, 'q101')).messages, 0);
});

// JsonConverter.parseValues with type_cast_enabled (thingsboard.yml `transport.json.type_cast_enabled`, default true):
// NumberUtils.isParsable strings become numbers (buildNumericKeyValueProto / parseNumericValue), others stay strings.
test('conformance: numeric strings in telemetry and attributes are stored as numbers (type cast)', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'cast', 'CAST');
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: 'CAST', reconnectPeriod: 0 });
  t.after(() => c.endAsync());
  const kept = { text: 'abc', trailing: '1.', exp: '1e5', hex: '0x1F', plus: '2 ', places17: '0.12345678901234567', real: 1.5 };
  const sent = { int: '42', neg: '-7', dbl: '3.25', half: '.5', ...kept };
  await c.publishAsync('v1/devices/me/telemetry', JSON.stringify(sent), { qos: 1 });
  await c.publishAsync('v1/devices/me/attributes', JSON.stringify({ fw: '2', name: 'x' }), { qos: 1 });
  const ts = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?useStrictDataTypes=true`, { token });
  const got = Object.fromEntries(Object.entries(ts.body as Record<string, { value: unknown }[]>).map(([k, v]) => [k, v[0].value]));
  assert.deepEqual(got, { int: 42, neg: -7, dbl: 3.25, half: 0.5, ...kept });
  const attrs = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes/CLIENT_SCOPE`, { token });
  assert.deepEqual(Object.fromEntries(attrs.body.map((a: { key: string; value: unknown }) => [a.key, a.value])), { fw: 2, name: 'x' });
  // the REST save path converts with the same JsonConverter (TelemetryController.saveEntityTelemetry)
  await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/timeseries/ANY`, { token, body: { restInt: '17' } });
  const readPath = `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=restInt&useStrictDataTypes=true`;
  const r = await rest(emu.restUrl, 'GET', readPath, { token });
  assert.equal(r.body.restInt[0].value, 17);
});

// DefaultTransportService.process(PostTelemetryMsg) → recordActivityInternal (TransportActivityManager) marks a device
// active; TelemetryController.saveTelemetry (REST) stores the rows without any activity.
test('conformance: telemetry saved over REST does not make a device active; device traffic does', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'rest-fed', 'REST_FED');
  const active = async () => (await rest(emu.restUrl, 'GET', `/api/device/info/${id}`, { token })).body.active;
  const saved = await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/DEVICE/${id}/timeseries/ANY`, { token, body: { t: 1 } });
  assert.equal(saved.status, 200);
  const stored = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=t`, { token });
  assert.equal(stored.body.t[0].value, '1');
  assert.equal(await active(), false);
  const server = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes/SERVER_SCOPE`, { token });
  assert.deepEqual(
    server.body.filter((a: { key: string }) => a.key === 'lastActivityTime'),
    [],
  );
  assert.equal((await telemetryOverHttp(emu.restUrl, 'REST_FED', { t: 2 })).status, 200);
  assert.equal(await active(), true);
});

// DeviceController.getDeviceTypes (JpaDeviceDao.findTenantDeviceTypesAsync, DaoUtil.convertTenantEntityInfosToDto),
// DeviceController.getDevicesByIds, DeviceProfileController.getDeviceProfileTimeseriesKeys and getAttributesKeys.
test('conformance: device types, devices by ids, and the key lists of a device profile over REST', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const profile = await rest(emu.restUrl, 'POST', '/api/deviceProfile', { token, body: { name: 'meters' } });
  await rest(emu.restUrl, 'POST', '/api/deviceProfile', { token, body: { name: 'unused' } });
  const meterBody = { name: 'm1', deviceProfileId: profile.body.id };
  const meter = await rest(emu.restUrl, 'POST', '/api/device?accessToken=M1', { token, body: meterBody });
  assert.equal(meter.status, 200, JSON.stringify(meter.body));
  const plain = await createDevice(emu.restUrl, token, 'p1', 'P1');
  await telemetryOverHttp(emu.restUrl, 'M1', { kwh: 1, volts: 230 });
  await telemetryOverHttp(emu.restUrl, 'P1', { temp: 20 });
  await rest(emu.restUrl, 'POST', '/api/v1/M1/attributes', { body: { fw: 'v2' } });

  const types = await rest(emu.restUrl, 'GET', '/api/device/types', { token });
  const typeNames = types.body.map((x: { type: string; entityType: string }) => [x.entityType, x.type]);
  assert.deepEqual(typeNames, [
    ['DEVICE', 'default'],
    ['DEVICE', 'meters'],
  ]);
  assert.equal(types.body[0].tenantId.entityType, 'TENANT');

  const missing = '00000000-0000-4000-8000-000000000000';
  const byIds = await rest(emu.restUrl, 'GET', `/api/devices?deviceIds=${plain},${missing},${meter.body.id.id}`, { token });
  assert.deepEqual(byIds.body.map((d: { name: string }) => d.name).sort(), ['m1', 'p1']);
  assert.equal((await rest(emu.restUrl, 'GET', '/api/devices?deviceIds=nope', { token })).status, 400);
  assert.equal((await rest(emu.restUrl, 'GET', '/api/devices', { token })).status, 400);

  const keys = async (kind: string, q = '') => {
    return (await rest(emu.restUrl, 'GET', `/api/deviceProfile/devices/keys/${kind}${q}`, { token })).body;
  };
  assert.deepEqual(await keys('timeseries', `?deviceProfileId=${profile.body.id.id}`), ['kwh', 'volts']);
  assert.deepEqual(await keys('timeseries'), ['kwh', 'temp', 'volts']);
  const attrs = await keys('attributes', `?deviceProfileId=${profile.body.id.id}`);
  assert.ok(attrs.includes('fw') && attrs.includes('active'), JSON.stringify(attrs));
  assert.deepEqual(attrs, [...attrs].sort());
});
