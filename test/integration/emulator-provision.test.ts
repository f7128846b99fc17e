// Device provisioning against the emulator over real sockets, following ThingsBoard's
// common/transport/mqtt/.../MqttTransportHandler.java (processConnect with user name "provision",
// processProvisionSessionMsg, DeviceProvisionCallback), application/.../device/DeviceProvisionServiceImpl.java
// (ALLOW_CREATE_NEW_DEVICES, CHECK_PRE_PROVISIONED_DEVICES), common/proto/.../JsonConverter.java
// (convertToProvisionRequestMsg, toJson(ProvisionDeviceResponseMsg)) and common/transport/http/.../DeviceApiController.java.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { fileScope } from '../helpers/cleanup.js';
import { startEmulator, rest, restLogin, createDevice, fetchStats } from '../helpers/emulator.js';

const emu = await startEmulator(fileScope);
const { token } = await restLogin(emu.restUrl);

async function client(t: { after(fn: () => void): void }, opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(emu.mqttUrl, { reconnectPeriod: 0, ...opts });
  t.after(() => c.end(true));
  return c;
}

/** One provision request in a fresh `provision` session (subscribed to the answer); returns the answer. */
async function provisionOverMqtt(t: { after(fn: () => void): void }, request: unknown): Promise<Record<string, unknown>> {
  const c = await client(t, { username: 'provision' });
  await c.subscribeAsync('/provision/response', { qos: 1 });
  const answer = new Promise<Record<string, unknown>>((resolve) => c.once('message', (_t, p) => resolve(JSON.parse(p.toString()))));
  await c.publishAsync('/provision/request', JSON.stringify(request), { qos: 1 });
  return answer;
}

const profile = (name: string, provisionType: string, key: string, secret: string) =>
  rest(emu.restUrl, 'POST', '/api/deviceProfile', {
    token,
    body: {
      name,
      provisionType,
      provisionDeviceKey: key,
      profileData: { provisionConfiguration: { type: provisionType, provisionDeviceSecret: secret } },
    },
  });

const created = await profile('auto', 'ALLOW_CREATE_NEW_DEVICES', 'auto-key', 'auto-secret');
const preProfile = await profile('pre', 'CHECK_PRE_PROVISIONED_DEVICES', 'pre-key', 'pre-secret');

test('conformance: a device profile keeps its provision settings; the provision key is unique', async () => {
  assert.equal(created.status, 200);
  const got = await rest(emu.restUrl, 'GET', `/api/deviceProfile/${created.body.id.id}`, { token });
  assert.equal(got.body.provisionType, 'ALLOW_CREATE_NEW_DEVICES');
  assert.equal(got.body.provisionDeviceKey, 'auto-key');
  assert.deepEqual(got.body.profileData.provisionConfiguration, { type: 'ALLOW_CREATE_NEW_DEVICES', provisionDeviceSecret: 'auto-secret' });
  // DeviceProfileServiceImpl: the device_provision_key_unq_key constraint
  const dup = await profile('auto2', 'ALLOW_CREATE_NEW_DEVICES', 'auto-key', 'x');
  assert.deepEqual([dup.status, dup.body.message], [400, 'Device profile with such provision device key already exists!']);
});

test('conformance: MQTT provisioning creates the device; its token connects and publishes; the same name again fails', async (t) => {
  const answer = await provisionOverMqtt(t, { deviceName: 'prov-1', provisionDeviceKey: 'auto-key', provisionDeviceSecret: 'auto-secret' });
  assert.equal(answer.status, 'SUCCESS');
  assert.equal(answer.credentialsType, 'ACCESS_TOKEN');
  assert.match(String(answer.credentialsValue), /^[A-Za-z0-9]{20}$/);
  const dev = await rest(emu.restUrl, 'GET', '/api/tenant/devices?deviceName=prov-1', { token });
  assert.equal(dev.body.type, 'auto', 'created on the profile the key belongs to');
  const creds = await rest(emu.restUrl, 'GET', `/api/device/${dev.body.id.id}/credentials`, { token });
  assert.equal(creds.body.credentialsId, answer.credentialsValue);
  const attrs = await rest(
    emu.restUrl,
    'GET',
    `/api/plugins/telemetry/DEVICE/${dev.body.id.id}/values/attributes/SERVER_SCOPE?keys=provisionState`,
    {
      token,
    },
  );
  assert.equal(attrs.body[0]?.value, 'provisioned');

  const device = await client(t, { username: String(answer.credentialsValue) });
  await device.publishAsync('v1/devices/me/telemetry', '{"sequence":1}', { qos: 1 });
  assert.equal((await fetchStats(emu.restUrl)).perDevice['prov-1'].messages, 1);

  // "The device is present and could not be provisioned once more!"
  const again = await provisionOverMqtt(t, { deviceName: 'prov-1', provisionDeviceKey: 'auto-key', provisionDeviceSecret: 'auto-secret' });
  assert.deepEqual(again, { errorMsg: 'Failed to provision device!', status: 'FAILURE' });
  // a requested token is the new device's token
  const own = await provisionOverMqtt(t, {
    deviceName: 'prov-2',
    provisionDeviceKey: 'auto-key',
    provisionDeviceSecret: 'auto-secret',
    token: 'PROV2',
  });
  assert.deepEqual(own, { credentialsValue: 'PROV2', credentialsType: 'ACCESS_TOKEN', status: 'SUCCESS' });
});

test('conformance: a wrong secret, an unknown key or a disabled profile answer NOT_FOUND', async (t) => {
  const notFound = { errorMsg: 'Provision data was not found!', status: 'NOT_FOUND' };
  assert.deepEqual(
    await provisionOverMqtt(t, { deviceName: 'x', provisionDeviceKey: 'auto-key', provisionDeviceSecret: 'wrong' }),
    notFound,
  );
  assert.deepEqual(
    await provisionOverMqtt(t, { deviceName: 'x', provisionDeviceKey: 'no-such-key', provisionDeviceSecret: 'auto-secret' }),
    notFound,
  );
  await profile('off', 'DISABLED', 'off-key', 'off-secret');
  assert.deepEqual(
    await provisionOverMqtt(t, { deviceName: 'x', provisionDeviceKey: 'off-key', provisionDeviceSecret: 'off-secret' }),
    notFound,
  );
  assert.equal((await rest(emu.restUrl, 'GET', '/api/tenant/devices?deviceName=x', { token })).status, 404, 'nothing created');
});

test('conformance: CHECK_PRE_PROVISIONED_DEVICES hands out the token of an existing device once; an unknown name fails', async (t) => {
  const r = await rest(emu.restUrl, 'POST', '/api/device?accessToken=PRE1', {
    token,
    body: { name: 'pre-1', deviceProfileId: preProfile.body.id },
  });
  assert.equal(r.status, 200);
  const req = { deviceName: 'pre-1', provisionDeviceKey: 'pre-key', provisionDeviceSecret: 'pre-secret' };
  assert.deepEqual(await provisionOverMqtt(t, req), { credentialsValue: 'PRE1', credentialsType: 'ACCESS_TOKEN', status: 'SUCCESS' });
  // processProvision: the provisionState server attribute is set, so a second request fails
  assert.equal((await provisionOverMqtt(t, req)).status, 'FAILURE');
  assert.equal((await provisionOverMqtt(t, { ...req, deviceName: 'pre-unknown' })).status, 'FAILURE');
  await createDevice(emu.restUrl, token, 'other-profile');
  assert.equal((await provisionOverMqtt(t, { ...req, deviceName: 'other-profile' })).status, 'FAILURE', 'a device of another profile');
});

test('conformance: a provision session takes only /provision/request and /provision/response', async (t) => {
  const c = await client(t, { clientId: 'provision', protocolVersion: 5 });
  // mqtt.js rejects a SUBACK with a failure code; the packet carries what was granted
  const granted = await c.subscribeAsync(['/provision/response', 'v1/devices/me/attributes'], { qos: 1 }).then(
    () => [],
    (e: Error & { packet?: { granted: number[] } }) => e.packet?.granted,
  );
  assert.deepEqual(granted, [1, 0x8f]);
  // a missing provisionDeviceSecret: JsonConverter's RuntimeException → PUBACK 0x83 and DISCONNECT 0x83
  const disconnect = new Promise<number | undefined>((r) => c.once('disconnect', (p) => r(p.reasonCode)));
  const code = await c.publishAsync('/provision/request', '{"deviceName":"y","provisionDeviceKey":"auto-key"}', { qos: 1 }).then(
    () => 0,
    (e: Error & { code?: number }) => e.code,
  );
  assert.equal(code, 0x83);
  assert.equal(await disconnect, 0x83);

  const other = await client(t, { username: 'provision', protocolVersion: 5 });
  const closed = new Promise<number | undefined>((r) => other.once('disconnect', (p) => r(p.reasonCode)));
  const telemetry = await other.publishAsync('v1/devices/me/telemetry', '{"a":1}', { qos: 1 }).then(
    () => 0,
    (e: Error & { code?: number }) => e.code,
  );
  assert.equal(telemetry, 0x90, '"Unsupported topic for provisioning requests"');
  assert.equal(await closed, 0x90);

  // no subscription: the answer still comes, at QoS 1 (MqttDeviceAwareSessionContext.getQoSForTopic)
  const bare = await client(t, { username: 'provision' });
  const got = new Promise<{ topic: string; qos: number }>((r) => bare.once('message', (topic, _p, pk) => r({ topic, qos: pk.qos })));
  await bare.publishAsync('/provision/request', '{"deviceName":"z","provisionDeviceKey":"k","provisionDeviceSecret":"s"}', { qos: 0 });
  assert.deepEqual(await got, { topic: '/provision/response', qos: 1 });
  assert.equal(bare.connected, true, 'closed only 60 s after the answer');
});

test('conformance: POST /api/v1/provision answers 200 with the same JSON; what is not imitated answers FAILURE and is counted', async () => {
  const ok = await rest(emu.restUrl, 'POST', '/api/v1/provision', {
    body: { deviceName: 'http-1', provisionDeviceKey: 'auto-key', provisionDeviceSecret: 'auto-secret' },
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 'SUCCESS');
  assert.equal((await rest(emu.restUrl, 'POST', `/api/v1/${ok.body.credentialsValue}/telemetry`, { body: { a: 1 } })).status, 200);
  const nf = await rest(emu.restUrl, 'POST', '/api/v1/provision', {
    body: { provisionDeviceKey: 'auto-key', provisionDeviceSecret: 'no' },
  });
  assert.deepEqual([nf.status, nf.body], [200, { errorMsg: 'Provision data was not found!', status: 'NOT_FOUND' }]);
  const basic = await rest(emu.restUrl, 'POST', '/api/v1/provision', {
    body: {
      deviceName: 'b',
      provisionDeviceKey: 'auto-key',
      provisionDeviceSecret: 'auto-secret',
      credentialsType: 'MQTT_BASIC',
      username: 'u',
    },
  });
  assert.deepEqual([basic.status, basic.body.status], [200, 'FAILURE']);
  assert.equal((await rest(emu.restUrl, 'POST', '/api/v1/provision', { body: { deviceName: 'b' } })).status, 500, 'no provision key');

  const stats = await fetchStats(emu.restUrl);
  assert.equal(stats.unimplemented['provision: MQTT_BASIC credentials'], 1);
  const p = stats.provisioning;
  assert.equal(p.requests, p.success + p.notFound + p.failure, 'every request answered once');
  assert.ok(p.sessions >= 10);
});
