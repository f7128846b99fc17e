// Secrets stay secret: TB_URL / TB_PARENT_URL carry a password in their user-info
// (`http://user:pa55-SECRET@127.0.0.1:<port>`). A real provision, run (dashboard on), report and
// delete against the emulator, and the error paths against a closed port, must never show it:
// every stdout/stderr, every dashboard endpoint and every file the lab wrote is searched for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator } from '../helpers/emulator.js';
import { startTblab, tblab, type CliResult } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'pa55-SECRET';

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** The first bytes of a long-lived response (the SSE stream), then the connection is dropped. */
function firstBytes(url: string, min = 200): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
        if (body.length >= min && body.includes('\n\n')) {
          req.destroy();
          resolve(body);
        }
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

test('a password in TB_URL / TB_PARENT_URL appears in no output, endpoint or file of a lab', { timeout: 180_000 }, async (t) => {
  const emu = await startEmulator(t);
  const dir = tmpDir(t, 'tblab-secrets-');
  const httpPort = new URL(emu.restUrl).port;
  const tbUrl = `http://user:${SECRET}@127.0.0.1:${httpPort}`;
  const dead = await closedPort();
  const base = {
    TB_URL: tbUrl,
    TB_USERNAME: 'tenant@thingsboard.org',
    TB_PASSWORD: 'tenant',
    MQTT_PORT: String(emu.mqttPort),
    DEVICE_COUNT: '6',
    DEVICE_PREFIX: 'sec',
    SHARDS: '2',
    METRICS_PORT: '0',
    REST_RETRIES: '0',
  };
  const outputs: { what: string; text: string }[] = [];
  const cli = async (what: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const r = await tblab(t, args, { cwd: dir, env: { ...base, ...env }, timeoutMs: 90_000 });
    outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
    return r;
  };

  const prov = await cli('provision', ['provision', '--json']);
  assert.equal(prov.code, 0, prov.stderr);
  assert.equal(JSON.parse(prov.stdout).server, `http://***@127.0.0.1:${httpPort}`);
  const check = await cli('check', ['check', '--json']);
  assert.match(check.stdout, /login as tenant@thingsboard\.org .* on http:\/\/\*\*\*@127\.0\.0\.1/);
  assert.match(check.stdout, /MQTT CONNECT as sec-0*1 accepted/, 'tokens.json still matches the server after redaction');

  // a run with its dashboard: the live endpoints are read while it runs
  const runArgs = ['run', '--duration', '8', '--interval', '0.5', '--qos', '1', '--json'];
  const run = startTblab(t, runArgs, { cwd: dir, env: base, timeoutMs: 90_000 });
  await run.waitFor(/dashboard: http:\/\/\S+/);
  const dash = /dashboard: (http:\/\/\S+)/.exec(run.stderr)![1];
  const live = await waitFor(
    'a live snapshot',
    async () => {
      const r = await fetch(`${dash}/api/metrics`);
      return r.status === 200 ? r.text() : null;
    },
    30_000,
  );
  outputs.push({ what: '/api/metrics', text: live });
  assert.equal(JSON.parse(live).target.rest, `http://***@127.0.0.1:${httpPort}`);
  outputs.push({ what: '/metrics', text: await (await fetch(`${dash}/metrics`)).text() });
  outputs.push({ what: '/api/stream', text: await firstBytes(`${dash}/api/stream`) });
  outputs.push({ what: '/api/info', text: await (await fetch(`${dash}/api/info`)).text() });
  outputs.push({ what: 'pid file during the run', text: readFileSync(join(dir, 'data', 'control', 'tblab.pid'), 'utf8') });
  const ran = await run.done;
  outputs.push({ what: 'run stdout', text: ran.stdout }, { what: 'run stderr', text: ran.stderr });
  assert.equal(ran.code, 0, ran.stderr);
  const report = JSON.parse(readFileSync(JSON.parse(ran.stdout).report, 'utf8'));
  assert.equal(report.metrics.target.rest, `http://***@127.0.0.1:${httpPort}`);
  assert.ok(report.metrics.traffic.acked > 0, 'the run reached the emulator through the URL with user-info');

  const shown = await cli('report', ['report', 'latest']);
  assert.match(shown.stdout + shown.stderr, /REST http:\/\/\*\*\*@127\.0\.0\.1/);
  await cli('report --json', ['report', 'latest', '--json']);
  await cli('config', ['config']);

  // error paths: the same credentials in front of a closed port, and a parent server that is down
  const deadUrl = `http://admin:${SECRET}@127.0.0.1:${dead}`;
  // (same data folder: tokens.json and devices.csv exist, so each command gets as far as the server)
  for (const [what, args] of [
    ['check', ['check']],
    ['provision', ['provision']],
    ['delete', ['delete', '--yes']],
    ['devices', ['devices', 'deactivate', '--devices', 'sec-001']],
  ] as const) {
    const r = await cli(`${what} (dead TB_URL)`, [...args], { TB_URL: deadUrl });
    assert.notEqual(r.code, 0, `${what} against a closed port fails`);
    assert.match(r.stderr, /http:\/\/\*\*\*@127\.0\.0\.1/, `${what} names the server, redacted`);
  }
  const mqttHost = await cli('check (MQTT_HOST with user-info)', ['check'], { MQTT_HOST: `u:${SECRET}@nohost.invalid` });
  assert.match(mqttHost.stderr, /mqtt:\/\/\*\*\*@nohost\.invalid/);
  const exposed = await cli('run (dead TB_URL)', ['run', '--duration', '1', '--devices', '2'], {
    TB_URL: deadUrl,
    METRICS_HOST: '0.0.0.0',
  });
  assert.match(exposed.stderr, /warning: the dashboard listens on 0\.0\.0\.0, reachable from other machines/);
  assert.doesNotMatch(ran.stderr, /reachable from other machines/, 'no warning on loopback');
  const del = await cli('delete (dead parent)', ['delete', '--yes'], { TB_PARENT_URL: deadUrl });
  assert.notEqual(del.code, 0);
  assert.match(del.stderr, /parent server http:\/\/\*\*\*@127\.0\.0\.1/);
  await cli('check --json (dead TB_URL)', ['check', '--json'], { TB_URL: deadUrl });
  await cli('invalid TB_URL', ['config'], { TB_URL: `ftp://user:${SECRET}@host` });

  for (const o of outputs) assert.equal(o.text.includes(SECRET), false, `${o.what} shows the password:\n${o.text}`);
  const files = filesUnder(dir);
  assert.ok(files.some((f) => f.endsWith('.csv')) && files.some((f) => f.endsWith('.jsonl')), files.join('\n'));
  assert.ok(files.some((f) => f.endsWith('tokens.json')) && files.some((f) => /runs\/.*\.json$/.test(f)), files.join('\n'));
  for (const f of files) assert.equal(readFileSync(f, 'utf8').includes(SECRET), false, `${f} holds the password`);
});
