import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, parseRetryAfter, isRetriableStatus, isTransientNetworkError, isConnectError } from '../../src/thingsboard/retry.js';
import { httpError, networkError, envelopeOf } from '../../src/thingsboard/errors.js';
import { generateAccessToken, fromServerCredentials } from '../../src/lab/credentials.js';

test('full-jitter backoff stays below min(cap, base·2^attempt)', () => {
  assert.equal(
    backoffMs(0, 250, 8000, () => 0.999),
    249,
  );
  assert.equal(
    backoffMs(3, 250, 8000, () => 0.5),
    1000,
  );
  assert.equal(
    backoffMs(10, 250, 8000, () => 0.999),
    7992,
  );
  assert.equal(
    backoffMs(5, 250, 8000, () => 0),
    0,
  );
});

test('Retry-After: seconds or HTTP date; junk ignored', () => {
  assert.equal(parseRetryAfter('2'), 2000);
  assert.equal(parseRetryAfter(['1.5']), 1500);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now), 3000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test('what is retried', () => {
  assert.ok(isRetriableStatus(429) && isRetriableStatus(503) && !isRetriableStatus(400) && !isRetriableStatus(404));
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  assert.ok(isTransientNetworkError(refused) && isConnectError(refused));
  const wrapped = Object.assign(new Error('fetch failed'), {
    cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
  });
  assert.ok(isTransientNetworkError(wrapped) && !isConnectError(wrapped));
  assert.ok(!isTransientNetworkError(new Error('plain')));
});

test('ThingsBoard error envelope → catalogue codes and exit codes', () => {
  const x = (status: number, body: unknown) =>
    httpError({ server: 'ThingsBoard at http://h', method: 'POST', path: '/api/device', status, body, attempts: 1 });
  const auth = x(401, { status: 401, message: 'Invalid username or password', errorCode: 10, timestamp: 1 });
  assert.equal(auth.code, 'AUTH_FAILED');
  assert.equal(auth.exitCode, 2);
  assert.match(auth.message, /Invalid username or password/);
  assert.equal(x(429, { status: 429, message: 'Too many requests for current tenant!', errorCode: 33 }).code, 'RATE_LIMITED');
  const dup = x(400, { status: 400, message: 'Device with such name already exists!', errorCode: 31 });
  assert.equal(dup.code, 'REQUEST_REJECTED');
  assert.equal(dup.details?.errorCode, 31);
  assert.equal(x(404, "Device with requested id wasn't found!").code, 'NOT_FOUND');
  const s = x(500, { status: 500, message: 'Database error', errorCode: 46 });
  assert.equal(s.code, 'SERVER_ERROR');
  assert.match(s.message, /Database error/);
  assert.equal(x(403, { status: 403, message: 'limit', errorCode: 41 }).code, 'PERMISSION_DENIED');
  assert.deepEqual(envelopeOf(400, 'Invalid JSON'), { status: 400, message: 'Invalid JSON', errorCode: 0 });
});

test('network errors name the server and the cause, never the query', () => {
  const e = networkError(
    'ThingsBoard at http://127.0.0.1:1',
    'POST',
    '/api/device',
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    1,
  );
  assert.equal(e.code, 'TARGET_UNREACHABLE');
  assert.equal(e.exitCode, 3);
  assert.match(e.message, /http:\/\/127\.0\.0\.1:1.*ECONNREFUSED/);
  const t = networkError(
    'X',
    'GET',
    '/api/x',
    Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
    3,
  );
  assert.equal(t.code, 'TARGET_TIMEOUT');
});

test('access tokens: 20 alphanumerics, distinct', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const t = generateAccessToken();
    assert.match(t, /^[A-Za-z0-9]{20}$/);
    seen.add(t);
  }
  assert.equal(seen.size, 500);
});

test('server credentials → token file credentials (three kinds)', () => {
  const base = { id: { id: 'c' }, deviceId: { entityType: 'DEVICE' as const, id: 'd' } };
  assert.deepEqual(fromServerCredentials({ ...base, credentialsType: 'ACCESS_TOKEN', credentialsId: 'tok', credentialsValue: null }), {
    type: 'ACCESS_TOKEN',
    token: 'tok',
  });
  assert.deepEqual(
    fromServerCredentials({
      ...base,
      credentialsType: 'MQTT_BASIC',
      credentialsId: 'hash',
      credentialsValue: '{"clientId":"c1","userName":"u1","password":"p1"}',
    }),
    { type: 'MQTT_BASIC', clientId: 'c1', username: 'u1', password: 'p1' },
  );
  assert.equal(fromServerCredentials({ ...base, credentialsType: 'X509_CERTIFICATE', credentialsId: 'h', credentialsValue: 'PEM' }), null);
});
