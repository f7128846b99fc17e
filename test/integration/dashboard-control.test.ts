import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDashboard } from '../helpers/dashboard.js';
import { createControlToken, readControlToken, buildDashboard } from '../../src/dashboard/index.js';
import { LabError } from '../../src/common/errors.js';
import { tmpDir } from '../helpers/tmp.js';

test('POST /api/control/stop refuses a missing or wrong token (401) and accepts the right one once', async (t) => {
  const reasons: string[] = [];
  const { url } = await startDashboard(t, { controlToken: 'right-token-0123456789', onStop: (r) => reasons.push(r) });
  const stop = (headers: Record<string, string>) => fetch(`${url}/api/control/stop`, { method: 'POST', headers });

  const bad: Array<Record<string, string>> = [
    {},
    { authorization: 'Bearer wrong-token-0123456789' },
    { 'x-control-token': 'right-token-012345678' },
    { authorization: 'Basic right-token-0123456789' },
  ];
  for (const headers of bad) {
    const r = await stop(headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    const body = (await r.json()) as { message: string };
    assert.doesNotMatch(JSON.stringify(body), /right-token/);
  }
  assert.deepEqual(reasons, []);

  const ok = await stop({ authorization: 'Bearer right-token-0123456789' });
  assert.equal(ok.status, 202);
  assert.deepEqual(await ok.json(), { accepted: true, alreadyStopping: false });
  assert.deepEqual(reasons, ['stopped via control endpoint']);

  const again = await stop({ 'x-control-token': 'right-token-0123456789' });
  assert.equal(again.status, 202);
  assert.deepEqual(await again.json(), { accepted: true, alreadyStopping: true });
  assert.equal(reasons.length, 1, 'onStop is called once');

  // reading endpoints stay open
  assert.equal((await fetch(`${url}/api/info`)).status, 200);
});

test('stop is the only control route: pause and resume are not served, even with the token', async (t) => {
  const { url } = await startDashboard(t, { controlToken: 'tok-abcdefghijklmnop', onStop: () => {} });
  for (const p of ['pause', 'resume']) {
    const res = await fetch(`${url}/api/control/${p}`, { method: 'POST', headers: { authorization: 'Bearer tok-abcdefghijklmnop' } });
    assert.equal(res.status, 404, p);
  }
});

test('without a control token no control route exists', async (t) => {
  const { url } = await startDashboard(t);
  assert.equal((await fetch(`${url}/api/control/stop`, { method: 'POST', headers: { authorization: 'Bearer x' } })).status, 404);
});

test('createControlToken writes a fresh 0600 token that readControlToken reads back', (t) => {
  const dir = tmpDir(t, 'tblab-ctl-');
  const a = createControlToken(dir);
  assert.equal(a.path, join(dir, 'control', 'control-token'));
  assert.equal(statSync(a.path).mode & 0o777, 0o600);
  assert.equal(readFileSync(a.path, 'utf8').trim(), a.token);
  assert.ok(a.token.length >= 40);
  assert.equal(readControlToken(a.path), a.token);
  const b = createControlToken(dir);
  assert.notEqual(b.token, a.token);
  assert.equal(readControlToken(b.path), b.token);
  assert.throws(
    () => readControlToken(join(dir, 'nope')),
    (e: unknown) => e instanceof LabError && e.code === 'NOT_RUNNING' && e.message.includes(join(dir, 'nope')),
  );
});

test('a taken port fails with PORT_IN_USE naming the address and METRICS_PORT', async (t) => {
  const { url } = await startDashboard(t);
  const port = Number(new URL(url).port);
  const second = buildDashboard({ host: '127.0.0.1', port, runId: 'x' });
  t.after(() => second.close());
  await assert.rejects(
    second.listen(),
    (e: unknown) =>
      e instanceof LabError && e.code === 'PORT_IN_USE' && e.message.includes(`127.0.0.1:${port}`) && e.message.includes('METRICS_PORT'),
  );
});
