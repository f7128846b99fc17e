// REST of the emulator over real HTTP: login/refresh/JWT errors, device CRUD and lookups, paging,
// credentials, device profiles, and attributes in three scopes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { startEmulator, rest, restLogin, createDevice } from '../helpers/emulator.js';

test('login returns decodable JWTs; refresh gives a new pair; bad logins get ThingsBoard errors', async (t) => {
  const emu = await startEmulator(t);
  const { token, refreshToken } = await restLogin(emu.restUrl);
  const claims = decodeJwt(token);
  assert.equal(claims.sub, 'tenant@thingsboard.org');
  assert.equal(claims.iss, 'thingsboard.io');
  assert.deepEqual(claims.scopes, ['TENANT_ADMIN']);
  assert.equal(claims.customerId, '13814000-1dd2-11b2-8080-808080808080');
  assert.equal(claims.exp! - claims.iat!, 9000);
  assert.deepEqual(decodeJwt(refreshToken).scopes, ['REFRESH_TOKEN']);

  const refreshed = await rest(emu.restUrl, 'POST', '/api/auth/token', { body: { refreshToken } });
  assert.equal(refreshed.status, 200);
  assert.ok(refreshed.body.token && refreshed.body.refreshToken);

  const bad = await rest(emu.restUrl, 'POST', '/api/auth/login', { body: { username: 'tenant@thingsboard.org', password: 'nope' } });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.message, 'Invalid username or password');
  assert.equal(bad.body.errorCode, 10);
  assert.equal(bad.body.status, 401);
  assert.equal(typeof bad.body.timestamp, 'number');
  const blank = await rest(emu.restUrl, 'POST', '/api/auth/login', { body: 'not json' });
  assert.deepEqual([blank.status, blank.body.message, blank.body.errorCode], [401, 'Authentication failed', 10]);
  const get = await rest(emu.restUrl, 'GET', '/api/auth/login');
  assert.equal(get.status, 401);
});

test('protected endpoints: missing, malformed, forged and expired tokens; both header forms', async (t) => {
  // an injected clock instead of sleeping through the token's lifetime
  let now = Math.floor(Date.now() / 1000) * 1000; // on a whole second: JWT times are in seconds
  const emu = await startEmulator(t, { jwtLifetimeSec: 2, username: 'ops@example.com', password: 's3cret', clock: () => now });
  const { token } = await restLogin(emu.restUrl, 'ops@example.com', 's3cret');
  const none = await rest(emu.restUrl, 'GET', '/api/auth/user');
  assert.deepEqual([none.status, none.body.message, none.body.errorCode], [401, 'Authentication failed', 10]);
  const junk = await rest(emu.restUrl, 'GET', '/api/auth/user', { headers: { 'X-Authorization': 'Bearer abc.def' } });
  assert.deepEqual([junk.status, junk.body.errorCode], [401, 10]);
  const forged = await rest(emu.restUrl, 'GET', '/api/auth/user', {
    token: token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA'),
  });
  assert.deepEqual([forged.status, forged.body.message, forged.body.errorCode], [401, 'Token has expired', 11]);
  const user = await rest(emu.restUrl, 'GET', '/api/auth/user', { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(user.status, 200);
  assert.equal(user.body.email, 'ops@example.com');
  assert.equal(user.body.authority, 'TENANT_ADMIN');
  now += 1900;
  const stillValid = await rest(emu.restUrl, 'GET', '/api/auth/user', { token });
  assert.equal(stillValid.status, 200);
  now += 300;
  const expired = await rest(emu.restUrl, 'GET', '/api/auth/user', { token });
  assert.deepEqual([expired.status, expired.body.message, expired.body.errorCode], [401, 'Token has expired', 11]);
});

test('device create with ?accessToken=, lookups, duplicates, credentials, delete', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const created = await rest(emu.restUrl, 'POST', '/api/device?accessToken=TOKEN-1', { token, body: { name: 'sim-001', label: 'lab' } });
  assert.equal(created.status, 200);
  const dev = created.body;
  assert.equal(dev.id.entityType, 'DEVICE');
  assert.equal(dev.name, 'sim-001');
  assert.equal(dev.type, 'default');
  assert.equal(dev.label, 'lab');
  assert.equal(dev.customerId.id, '13814000-1dd2-11b2-8080-808080808080');
  assert.equal(dev.deviceProfileId.entityType, 'DEVICE_PROFILE');

  const dupName = await rest(emu.restUrl, 'POST', '/api/device?accessToken=OTHER', { token, body: { name: 'sim-001' } });
  assert.deepEqual([dupName.status, dupName.body.message, dupName.body.errorCode], [400, 'Device with such name already exists!', 31]);
  const dupToken = await rest(emu.restUrl, 'POST', '/api/device?accessToken=TOKEN-1', { token, body: { name: 'sim-002' } });
  assert.deepEqual([dupToken.status, dupToken.body.message], [400, 'Device credentials are already assigned to another device!']);
  assert.equal(emu.store.registry.byName.has('sim-002'), false, 'a device with a taken token is not created');

  const byName = await rest(emu.restUrl, 'GET', '/api/tenant/devices?deviceName=sim-001', { token });
  assert.equal(byName.body.id.id, dev.id.id);
  const byName2 = await rest(emu.restUrl, 'GET', '/api/tenant/device?deviceName=sim-001', { token });
  assert.equal(byName2.body.id.id, dev.id.id);
  const missing = await rest(emu.restUrl, 'GET', '/api/tenant/devices?deviceName=nope', { token });
  assert.deepEqual([missing.status, missing.body.message, missing.body.errorCode], [404, "Requested item wasn't found!", 32]);
  const get = await rest(emu.restUrl, 'GET', `/api/device/${dev.id.id}`, { token });
  assert.equal(get.body.name, 'sim-001');
  const notUuid = await rest(emu.restUrl, 'GET', '/api/device/xyz', { token });
  assert.deepEqual([notUuid.status, notUuid.body.errorCode], [400, 31]);

  const cred = await rest(emu.restUrl, 'GET', `/api/device/${dev.id.id}/credentials`, { token });
  assert.equal(cred.body.credentialsType, 'ACCESS_TOKEN');
  assert.equal(cred.body.credentialsId, 'TOKEN-1');
  assert.equal(cred.body.deviceId.id, dev.id.id);
  assert.equal(cred.body.id.entityType, undefined);

  const auto = await rest(emu.restUrl, 'POST', '/api/device', { token, body: { name: 'auto', type: 'thermo' } });
  assert.equal(auto.body.type, 'thermo', 'type creates a profile of that name');
  const autoCred = await rest(emu.restUrl, 'GET', `/api/device/${auto.body.id.id}/credentials`, { token });
  assert.match(autoCred.body.credentialsId, /^[A-Za-z0-9]{20}$/);

  const withCred = await rest(emu.restUrl, 'POST', '/api/device-with-credentials', {
    token,
    body: { device: { name: 'wc' }, credentials: { credentialsType: 'ACCESS_TOKEN', credentialsId: 'WC_TOKEN' } },
  });
  assert.equal(withCred.status, 200);
  assert.equal(emu.store.registry.byToken.get('WC_TOKEN')?.name, 'wc');

  const del = await rest(emu.restUrl, 'DELETE', `/api/device/${dev.id.id}`, { token });
  assert.deepEqual([del.status, del.body], [200, '']);
  const again = await rest(emu.restUrl, 'DELETE', `/api/device/${dev.id.id}`, { token });
  assert.deepEqual([again.status, again.body.errorCode], [404, 32]);
  assert.equal(emu.store.registry.byToken.has('TOKEN-1'), false);
});

test('paged device lists: PageData, 0-based pages, textSearch on name or label, sorting, validation', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  for (let i = 1; i <= 25; i++) await createDevice(emu.restUrl, token, `sim-${String(i).padStart(3, '0')}`);
  await rest(emu.restUrl, 'POST', '/api/device', { token, body: { name: 'other', label: 'SIM-ish' } });
  const p0 = await rest(emu.restUrl, 'GET', '/api/tenant/devices?pageSize=10&page=0&sortProperty=name&sortOrder=ASC', { token });
  assert.equal(p0.body.totalElements, 26);
  assert.equal(p0.body.totalPages, 3);
  assert.equal(p0.body.hasNext, true);
  assert.equal(p0.body.data.length, 10);
  assert.equal(p0.body.data[0].name, 'other');
  const p2 = await rest(emu.restUrl, 'GET', '/api/tenant/devices?pageSize=10&page=2&sortProperty=name&sortOrder=DESC', { token });
  assert.equal(p2.body.data.length, 6);
  assert.equal(p2.body.hasNext, false);
  assert.equal(p2.body.data.at(-1).name, 'other');
  const search = await rest(emu.restUrl, 'GET', '/api/tenant/devices?pageSize=100&page=0&textSearch=sim-02', { token });
  assert.deepEqual(search.body.data.map((d: { name: string }) => d.name).sort(), [
    'sim-020',
    'sim-021',
    'sim-022',
    'sim-023',
    'sim-024',
    'sim-025',
  ]);
  const byLabel = await rest(emu.restUrl, 'GET', '/api/tenant/devices?pageSize=100&page=0&textSearch=ish', { token });
  assert.deepEqual(
    byLabel.body.data.map((d: { name: string }) => d.name),
    ['other'],
  );
  const all = new Set<string>();
  for (let page = 0; ; page++) {
    const r = await rest(emu.restUrl, 'GET', `/api/tenant/devices?pageSize=7&page=${page}`, { token });
    for (const d of r.body.data) all.add(d.name);
    if (!r.body.hasNext) break;
  }
  assert.equal(all.size, 26, 'default order pages through every device once');
  const noSize = await rest(emu.restUrl, 'GET', '/api/tenant/devices?page=0', { token });
  assert.deepEqual([noSize.status, noSize.body.errorCode], [400, 31]);
  const zero = await rest(emu.restUrl, 'GET', '/api/tenant/devices?pageSize=0&page=0', { token });
  assert.equal(zero.body.message, "Incorrect page link page size '0'. Page size must be greater than zero.");
  const infos = await rest(emu.restUrl, 'GET', '/api/tenant/deviceInfos?pageSize=5&page=0', { token });
  assert.equal(infos.body.data[0].active, false);
  assert.equal(infos.body.data[0].deviceProfileName, 'default');
});

test('device profiles: default, infos, full list, create, unknown profile id', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const def = await rest(emu.restUrl, 'GET', '/api/deviceProfileInfo/default', { token });
  assert.equal(def.body.name, 'default');
  assert.equal(def.body.id.entityType, 'DEVICE_PROFILE');
  assert.equal(def.body.transportType, 'DEFAULT');
  const created = await rest(emu.restUrl, 'POST', '/api/deviceProfile', { token, body: { name: 'SMART_METER' } });
  assert.equal(created.body.name, 'SMART_METER');
  assert.equal(created.body.default, false);
  const dup = await rest(emu.restUrl, 'POST', '/api/deviceProfile', { token, body: { name: 'SMART_METER' } });
  assert.deepEqual([dup.status, dup.body.message], [400, 'Device profile with such name already exists!']);
  const infos = await rest(emu.restUrl, 'GET', '/api/deviceProfileInfos?pageSize=10&page=0&sortProperty=name&sortOrder=ASC', { token });
  assert.deepEqual(
    infos.body.data.map((p: { name: string }) => p.name),
    ['SMART_METER', 'default'],
  );
  const full = await rest(emu.restUrl, 'GET', '/api/deviceProfiles?pageSize=1000&page=0', { token });
  assert.equal(full.body.totalElements, 2);
  assert.ok(full.body.data[0].profileData);
  const dev = await rest(emu.restUrl, 'POST', '/api/device', {
    token,
    body: { name: 'm1', deviceProfileId: { entityType: 'DEVICE_PROFILE', id: created.body.id.id } },
  });
  assert.equal(dev.body.type, 'SMART_METER');
  const bad = await rest(emu.restUrl, 'POST', '/api/device', {
    token,
    body: { name: 'm2', deviceProfileId: { id: '00000000-0000-0000-0000-000000000000' } },
  });
  assert.deepEqual([bad.status, bad.body.message], [400, 'Device is referencing non existing device profile!']);
});

test('attributes: save server/shared, read by scope and keys, plain-text errors', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'a1');
  const base = `/api/plugins/telemetry/DEVICE/${id}`;
  assert.equal(
    (await rest(emu.restUrl, 'POST', `${base}/attributes/SERVER_SCOPE`, { token, body: { batch: 3, group: 'g1', flag: true } })).status,
    200,
  );
  assert.equal((await rest(emu.restUrl, 'POST', `${base}/SHARED_SCOPE`, { token, body: { target: 21.5 } })).status, 200);
  assert.equal(
    (await rest(emu.restUrl, 'POST', `/api/plugins/telemetry/${id}/SHARED_SCOPE`, { token, body: { mode: 'eco' } })).status,
    200,
  );
  const server = await rest(emu.restUrl, 'GET', `${base}/values/attributes/SERVER_SCOPE?keys=batch,group`, { token });
  assert.deepEqual(
    server.body.map((a: { key: string; value: unknown }) => [a.key, a.value]),
    [
      ['batch', 3],
      ['group', 'g1'],
    ],
  );
  assert.equal(typeof server.body[0].lastUpdateTs, 'number');
  const all = await rest(emu.restUrl, 'GET', `${base}/values/attributes`, { token });
  assert.deepEqual(all.body.map((a: { key: string }) => a.key).sort(), ['batch', 'flag', 'group', 'mode', 'target']);
  const keys = await rest(emu.restUrl, 'GET', `${base}/keys/attributes/SHARED_SCOPE`, { token });
  assert.deepEqual(keys.body.sort(), ['mode', 'target']);
  const client = await rest(emu.restUrl, 'POST', `${base}/attributes/CLIENT_SCOPE`, { token, body: { x: 1 } });
  assert.deepEqual([client.status, client.body], [400, 'Invalid scope: CLIENT_SCOPE']);
  const badJson = await rest(emu.restUrl, 'POST', `${base}/attributes/SERVER_SCOPE`, { token, body: '{nope' });
  assert.deepEqual([badJson.status, badJson.body], [400, 'Invalid JSON']);
  const unknown = await rest(emu.restUrl, 'GET', `/api/plugins/telemetry/DEVICE/00000000-0000-0000-0000-000000000000/values/attributes`, {
    token,
  });
  assert.deepEqual([unknown.status, unknown.body], [404, "Device with requested id wasn't found!"]);
});

test('REST rate limit per tenant answers 429/33', async (t) => {
  const emu = await startEmulator(t, { rateLimits: { rest: '3:60' } });
  const { token } = await restLogin(emu.restUrl);
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await rest(emu.restUrl, 'GET', '/api/auth/user', { token })).status);
  assert.deepEqual(codes, [200, 200, 200, 429, 429]);
  const r = await rest(emu.restUrl, 'GET', '/api/auth/user', { token });
  assert.deepEqual([r.body.message, r.body.errorCode], ['Too many requests for current tenant!', 33]);
  emu.setRateLimits({});
  assert.equal((await rest(emu.restUrl, 'GET', '/api/auth/user', { token })).status, 200);
});

test('name conflict policy UNIQUIFY (4.3+) and the tenant device limit (403/41)', async (t) => {
  const emu = await startEmulator(t, { maxDevices: 3 });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'dup');
  const inc = await rest(emu.restUrl, 'POST', '/api/device?nameConflictPolicy=UNIQUIFY&uniquifyStrategy=INCREMENTAL&uniquifySeparator=-', {
    token,
    body: { name: 'dup' },
  });
  assert.equal(inc.body.name, 'dup-1');
  const rnd = await rest(emu.restUrl, 'POST', '/api/device?nameConflictPolicy=UNIQUIFY', { token, body: { name: 'dup' } });
  assert.match(rnd.body.name, /^dup_[a-z0-9]{6}$/);
  const over = await rest(emu.restUrl, 'POST', '/api/device', { token, body: { name: 'four' } });
  assert.deepEqual([over.status, over.body.errorCode, over.body.entityType, over.body.limit], [403, 41, 'DEVICE', 3]);
});
