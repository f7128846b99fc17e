// Device claiming against the emulator over real sockets, following ThingsBoard's
// application/.../service/device/ClaimDevicesServiceImpl.java (registerClaimingInfo, claimDevice, reClaimDevice),
// application/.../controller/DeviceController.java (claimDevice/reClaimDevice), UserController.getUserToken,
// common/transport/mqtt/.../MqttTransportHandler.java (v1/devices/me/claim) and
// common/transport/http/.../DeviceApiController.java (saveClaimingInfo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { decodeJwt } from 'jose';
import { fileScope } from '../helpers/cleanup.js';
import { startEmulator, rest, restLogin, createDevice, fetchStats } from '../helpers/emulator.js';

const NULL_CUSTOMER = '13814000-1dd2-11b2-8080-808080808080';
const emu = await startEmulator(fileScope);
const { token } = await restLogin(emu.restUrl);
const customer = await rest(emu.restUrl, 'POST', '/api/customer', { token, body: { title: 'Acme' } });
const customerId = customer.body.id.id as string;
const user = await rest(emu.restUrl, 'POST', '/api/user?sendActivationMail=false', {
  token,
  body: { email: 'Buyer@acme.test', authority: 'CUSTOMER_USER', customerId: { entityType: 'CUSTOMER', id: customerId } },
});
const userTokens = (await rest(emu.restUrl, 'GET', `/api/user/${user.body.id.id}/token`, { token })).body as {
  token: string;
  refreshToken: string;
};
const claim = (name: string, body: unknown, jwt = userTokens.token) =>
  rest(emu.restUrl, 'POST', `/api/customer/device/${encodeURIComponent(name)}/claim`, { token: jwt, body });
/** The device's claim registration over MQTT (QoS 1: resolves on PUBACK). */
async function registerOverMqtt(accessToken: string, payload: unknown): Promise<void> {
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: accessToken, reconnectPeriod: 0 });
  await c.publishAsync('v1/devices/me/claim', JSON.stringify(payload), { qos: 1 });
  await c.endAsync();
}

test('conformance: a customer user gets a CUSTOMER_USER JWT from its tenant admin and only the claim API takes it', async () => {
  assert.deepEqual([customer.status, user.status, user.body.email, user.body.authority], [200, 200, 'buyer@acme.test', 'CUSTOMER_USER']);
  const claims = decodeJwt(userTokens.token);
  assert.deepEqual(claims.scopes, ['CUSTOMER_USER']);
  assert.equal(claims.customerId, customerId);
  assert.equal(claims.sub, 'buyer@acme.test');
  // a refresh keeps the identity (never a tenant admin's token)
  const refreshed = await rest(emu.restUrl, 'POST', '/api/auth/token', { body: { refreshToken: userTokens.refreshToken } });
  assert.deepEqual(decodeJwt(refreshed.body.token).scopes, ['CUSTOMER_USER']);
  const tenantApi = await rest(emu.restUrl, 'GET', '/api/tenant/devices?pageSize=10&page=0', { token: userTokens.token });
  assert.deepEqual([tenantApi.status, tenantApi.body.errorCode], [403, 20]);
  await createDevice(emu.restUrl, token, 'admin-try');
  const byTenant = await claim('admin-try', { secretKey: '' }, token);
  assert.deepEqual([byTenant.status, byTenant.body.errorCode], [403, 20], "@PreAuthorize('CUSTOMER_USER')");
  const dupTitle = await rest(emu.restUrl, 'POST', '/api/customer', { token, body: { title: 'Acme' } });
  assert.deepEqual([dupTitle.status, dupTitle.body.message], [400, 'Customer with such title already exists!']);
});

test('conformance: claim round trip over MQTT: a wrong key fails and drops the registration; the right one assigns the device', async () => {
  const id = await createDevice(emu.restUrl, token, 'meter-1', 'METER1');
  await registerOverMqtt('METER1', { secretKey: 's3cret', durationMs: 60000 });
  // claimDevice: a wrong key → FAILURE (400, the bare enum) and the cached claiming data is evicted
  const wrong = await claim('meter-1', { secretKey: 'nope' });
  assert.deepEqual([wrong.status, wrong.body], [400, 'FAILURE']);
  assert.deepEqual((await claim('meter-1', { secretKey: 's3cret' })).body, 'FAILURE', 'the registration is gone');

  await registerOverMqtt('METER1', { secretKey: 's3cret', durationMs: 60000 });
  const ok = await claim('meter-1', { secretKey: 's3cret' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.response, 'SUCCESS');
  assert.equal(ok.body.device.customerId.id, customerId);
  const info = await rest(emu.restUrl, 'GET', `/api/device/info/${id}`, { token });
  assert.deepEqual([info.body.customerId.id, info.body.customerTitle], [customerId, 'Acme']);
  assert.deepEqual((await claim('meter-1', { secretKey: 's3cret' })).body, 'CLAIMED');

  // registerClaimingInfo refuses a device that has a customer; the PUBACK comes all the same
  await registerOverMqtt('METER1', { secretKey: 'again' });
  assert.deepEqual((await claim('meter-1', { secretKey: 'again' })).body, 'CLAIMED');

  // reClaimDevice (tenant admin): the device is unassigned and can be claimed again
  assert.equal((await rest(emu.restUrl, 'DELETE', '/api/customer/device/meter-1/claim', { token })).status, 200);
  assert.equal((await rest(emu.restUrl, 'GET', `/api/device/${id}`, { token })).body.customerId.id, NULL_CUSTOMER);
  assert.deepEqual((await claim('meter-1', { secretKey: 'again' })).body, 'FAILURE', 'nothing registered since');
  assert.equal((await claim('no-such-device', { secretKey: '' })).status, 404);
});

test('conformance: HTTP claim registration: an expired registration fails; without durationMs the system duration applies', async () => {
  await createDevice(emu.restUrl, token, 'meter-2', 'METER2');
  const reg = await rest(emu.restUrl, 'POST', '/api/v1/METER2/claim', { body: { secretKey: 'k', durationMs: 1 } });
  assert.equal(reg.status, 200);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual((await claim('meter-2', { secretKey: 'k' })).body, 'FAILURE', 'expired');

  // an empty body registers the empty key for security.claim.duration (a day); no secretKey presents the empty key
  assert.equal((await rest(emu.restUrl, 'POST', '/api/v1/METER2/claim')).status, 200);
  assert.equal((await claim('meter-2', {})).body.response, 'SUCCESS');
  assert.equal((await rest(emu.restUrl, 'POST', '/api/v1/NO-SUCH-TOKEN/claim', { body: {} })).status, 401);
  assert.equal((await rest(emu.restUrl, 'POST', '/api/v1/METER2/claim', { body: '[1]' })).status, 500, 'not a JSON object');
  const broken = await rest(emu.restUrl, 'POST', '/api/v1/METER2/claim', { body: '{"secretKey":"top-secret' });
  assert.equal(broken.status, 500);
  assert.doesNotMatch(String(broken.body), /top-secret/, 'the error does not echo the secret');

  const c = (await fetchStats(emu.restUrl)).claims;
  assert.equal(c.success, 2);
  assert.equal(c.reclaims, 1);
  assert.ok(c.registrations > c.registered, 'refused registrations counted apart');
});
