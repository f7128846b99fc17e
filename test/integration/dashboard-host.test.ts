// The dashboard against DNS rebinding: bound to loopback it answers only requests addressed to a
// loopback name (real HTTP requests with a forged Host header); bound beyond loopback it answers
// any Host and the lab warns at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startDashboard } from '../helpers/dashboard.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';
import { exposureWarning, isLoopbackName } from '../../src/dashboard/index.js';

function get(url: string, path: string, host: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('loopback-bound dashboard: a forged Host is refused on every route, loopback names are served', async (t) => {
  const { dash, url } = await startDashboard(t);
  dash.publish(fixtureSnapshot());
  const port = new URL(url).port;
  for (const path of ['/api/metrics', '/metrics', '/api/stream', '/', '/api/info']) {
    for (const host of [`evil.example:${port}`, 'evil.example', `rebind.attacker.test:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const r = await get(url, path, host);
      assert.equal(r.status, 403, `${path} with Host ${host}`);
      assert.match(r.body, /not this machine/);
      assert.doesNotMatch(r.body, /"traffic"/);
    }
  }
  const loopback = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, `app.localhost:${port}`, '127.0.0.2'];
  for (const host of loopback) {
    const r = await get(url, '/api/metrics', host);
    assert.equal(r.status, 200, `Host ${host}: ${r.body}`);
    assert.equal(JSON.parse(r.body).runId, fixtureSnapshot().runId);
  }
  // POST control routes are guarded the same way
  const stop = await new Promise<number>((resolve, reject) => {
    const u = new URL(url);
    const opts = { host: u.hostname, port: u.port, path: '/api/control/stop', method: 'POST', headers: { host: 'evil.example' } };
    const req = http.request(opts, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(stop, 403);
});

test('a dashboard bound beyond loopback answers any Host and is announced with a warning', async (t) => {
  const { dash, url } = await startDashboard(t, { host: '0.0.0.0' });
  dash.publish(fixtureSnapshot());
  const r = await get(url.replace('0.0.0.0', '127.0.0.1'), '/api/metrics', 'lab.example:5050');
  assert.equal(r.status, 200);
  assert.match(exposureWarning('0.0.0.0') ?? '', /reachable from other machines.*METRICS_HOST=127\.0\.0\.1/);
  assert.match(exposureWarning('192.168.1.10') ?? '', /192\.168\.1\.10/);
  for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3']) assert.equal(exposureWarning(h), null, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '127.0.0.1.example.com', 'localhost.example.com']) {
    assert.equal(isLoopbackName(h), false, h);
  }
});
