import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { connect } from 'node:net';
import { provision } from '../../src/lab/provision.js';
import { listFleetOnServer } from '../../src/lab/fleet-server.js';
import { TbClient } from '../../src/thingsboard/client.js';
import { type LabError } from '../../src/common/errors.js';
import { createEmulator } from '../../src/emulator/index.js';
import { labEnv, labConfig, adminClient, sink, closedPort } from '../helpers/lab-fixtures.js';
import { startEmulator } from '../helpers/emulator.js';
import { tmpDir } from '../helpers/tmp.js';
import { tblab } from '../helpers/tblab-cli.js';
import { labContext } from '../../src/lab/context.js';

test('a JWT that lives 2 s is refreshed mid-run; nothing fails', { timeout: 120_000 }, async (t) => {
  // 100 ms REST latency: ~300 devices × 2 requests / 16 in flight ≈ 4 s, two token lifetimes at least
  const e = await startEmulator(t, { jwtLifetimeSec: 2, faults: { restLatencyMs: 100 } });
  const dir = tmpDir(t);
  const cfg = labConfig(labEnv(e, dir, { DEVICE_COUNT: '300', PROVISION_CONCURRENCY: '16' }), dir);
  const s = await provision(labContext({ stderr: sink().stream }), cfg, { progress: false });
  assert.equal(s.created, 300);
  assert.ok(s.auth.refreshes >= 1, `refreshed ${s.auth.refreshes} time(s)`);
  assert.equal((await listFleetOnServer(adminClient(t, e.restUrl), 'sim')).size, 300);
});

test('a 401 "Token has expired" (errorCode 11) is answered by one refresh (or login) and a retry', { timeout: 60_000 }, async (t) => {
  // A token signed by another server answers 401/11 like an expired one (docs/thingsboard-behaviour.md#authentication):
  // replace the server behind the URL, keep the client and its token.
  const first = createEmulator();
  const { httpPort } = await first.listen();
  const c = new TbClient({
    baseUrl: `http://127.0.0.1:${httpPort}`,
    username: 'tenant@thingsboard.org',
    password: 'tenant',
    timeoutMs: 10_000,
    retries: 3,
    connections: 2,
  });
  t.after(() => c.close());
  await c.login();
  await first.close();
  const second = createEmulator({ httpPort });
  await second.listen();
  t.after(() => second.close());
  await adminClient(t, `http://127.0.0.1:${httpPort}`).post('/api/device', { name: 'only-on-the-second' });
  const page = await c.get<{ data: { name: string }[] }>('/api/tenant/devices', { pageSize: 10, page: 0 });
  assert.deepEqual(
    page.data.map((d) => d.name),
    ['only-on-the-second'],
  );
  assert.equal(c.stats.logins, 2, 'the refresh token was refused too, so it logged in again');
  assert.equal(c.stats.refreshes, 1);
});

test('a 429 storm (REST limit 40/s) is ridden out with backoff', { timeout: 120_000 }, async (t) => {
  const e = await startEmulator(t, { rateLimits: { rest: '40:1' } });
  let limited = 0;
  e.events.on('rateLimited', () => limited++);
  const dir = tmpDir(t);
  const cfg = labConfig(labEnv(e, dir, { DEVICE_COUNT: '150', PROVISION_CONCURRENCY: '32' }), dir);
  const s = await provision(labContext({ stderr: sink().stream }), cfg, { progress: false });
  assert.equal(s.created, 150);
  assert.ok(s.retries.rateLimited > 0 && limited > 0, `429s retried: ${s.retries.rateLimited}, answered: ${limited}`);
  assert.equal((await listFleetOnServer(adminClient(t, e.restUrl), 'sim')).size, 150);
});

test('wrong password: one clear message and exit 2; the password is not printed', { timeout: 60_000 }, async (t) => {
  const e = await startEmulator(t);
  const dir = tmpDir(t);
  const r = await tblab(t, ['provision', '--no-progress'], { cwd: dir, env: labEnv(e, dir, { TB_PASSWORD: 'not-the-Secret-42' }) });
  assert.equal(r.code, 2);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0], /AUTH_FAILED.*tenant@thingsboard\.org.*Invalid username or password/);
  assert.doesNotMatch(r.stderr + r.stdout, /not-the-Secret-42/);
});

test('unreachable URL: one clear message naming the URL and ECONNREFUSED, exit 3', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t);
  const port = await closedPort();
  const started = Date.now();
  const r = await tblab(t, ['provision', '--no-progress'], {
    cwd: dir,
    env: { TB_URL: `http://127.0.0.1:${port}`, DATA_DIR: `${dir}/data` },
  });
  assert.equal(r.code, 3);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0], new RegExp(`TARGET_UNREACHABLE.*http://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  assert.ok(Date.now() - started < 20_000, 'a refused connect is not retried for long');
});

test('HTTP_PROXY carries REST through a proxy; NO_PROXY bypasses it', { timeout: 60_000 }, async (t) => {
  const e = await startEmulator(t);
  let tunnels = 0;
  const proxy = createHttpServer();
  proxy.on('connect', (req, client, head) => {
    tunnels++;
    const [host, port] = String(req.url).split(':');
    const up = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => {
    proxy.closeAllConnections();
    proxy.close();
  });
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const opts = {
    baseUrl: e.restUrl,
    username: 'tenant@thingsboard.org',
    password: 'tenant',
    timeoutMs: 10_000,
    retries: 0,
    connections: 2,
  };

  const via = new TbClient({ ...opts, httpProxy: proxyUrl });
  t.after(() => via.close());
  assert.equal((await via.login()).username, 'tenant@thingsboard.org');
  assert.ok(tunnels >= 1, 'the request went through the proxy');

  const before = tunnels;
  const direct = new TbClient({ ...opts, httpProxy: proxyUrl, noProxy: '127.0.0.1' });
  t.after(() => direct.close());
  await direct.login();
  assert.equal(tunnels, before, 'NO_PROXY bypassed the proxy');
});

test('errors carry the server message: 404 NOT_FOUND, 400 REQUEST_REJECTED', { timeout: 30_000 }, async (t) => {
  const e = await startEmulator(t);
  const c = adminClient(t, e.restUrl);
  await assert.rejects(
    c.get('/api/device/00000000-0000-4000-8000-000000000000'),
    (err: LabError) => err.code === 'NOT_FOUND' && /is not found/.test(err.message),
  );
  await c.post('/api/device', { name: 'dup' });
  await assert.rejects(
    c.post('/api/device', { name: 'dup' }),
    (err: LabError) => err.code === 'REQUEST_REJECTED' && /already exists/.test(err.message) && err.details?.errorCode === 31,
  );
});
