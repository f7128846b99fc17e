// `tblab emulator` as a process: prints its two URL lines on stdout, serves them, and exits 0 on
// SIGINT and SIGTERM; bad flags exit 2 naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { fileURLToPath } from 'node:url';
import { restLogin, fetchStats, waitFor } from '../helpers/emulator.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

async function startCli(t: { after(fn: () => void): void }, args: string[], env: Record<string, string> = {}) {
  const argv = [MAIN, 'emulator', '--http-port', '0', '--mqtt-port', '0', ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b));
  const lines = await new Promise<string[]>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b;
      const ls = out.split('\n').filter(Boolean);
      if (ls.length >= 2) resolve(ls);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${err}`)));
  });
  return { child, lines, stderr: () => err };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`tblab emulator prints REST and MQTT URLs, serves them, and exits 0 on ${signal}`, async (t) => {
    const { child, lines, stderr } = await startCli(t, ['--refuse-connects', '0.5', '--rate-limit-device', '20:1,600:60', '--log-events', '--summary-every', '0.2']);
    assert.match(lines[0], /^REST http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lines[1], /^MQTT mqtt:\/\/127\.0\.0\.1:\d+$/);
    const restUrl = lines[0].slice(5);
    const { token } = await restLogin(restUrl);
    assert.ok(token);
    assert.equal((await fetchStats(restUrl)).devices, 0);
    await fetch(`${restUrl}/api/device?accessToken=CLI_TOKEN`, { method: 'POST', headers: { 'X-Authorization': `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{"name":"cli-dev"}' });
    await fetch(`${restUrl}/api/v1/CLI_TOKEN/telemetry`, { method: 'POST', body: '{"sequence":1}' });
    const mqttPort = Number(new URL(lines[1].slice(5)).port);
    const sock = net.connect(mqttPort, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 0, username: 'CLI_TOKEN' }));
    await waitFor('a summary line and a connect or refusal line', () => /emulator: 1 messages/.test(stderr()) && /connect cli-dev \(MQTT v3\.1\.1|refused CONNACK 3 \(fault-refuse\)/.test(stderr()));
    sock.destroy();
    const faults = (await (await fetch(`${restUrl}/__emulator/faults`)).json()) as { refuseConnects: number };
    assert.equal(faults.refuseConnects, 0.5);
    const exited = once(child, 'exit');
    child.kill(signal);
    const [code] = await exited;
    assert.equal(code, 0);
    assert.match(stderr(), new RegExp(`${signal}, closing`));
  });
}

test('tblab emulator rejects bad flags with exit code 2 and names them', () => {
  const r = spawnSync(process.execPath, [MAIN, 'emulator', '--http-port', '0', '--mqtt-port', '0', '--rate-limit-device', '20/s'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /device rate limit: "20\/s" is not a ThingsBoard rate limit/);
  const r2 = spawnSync(process.execPath, [MAIN, 'emulator', '--refuse-connects', '2'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /--refuse-connects expects a number from 0 to 1/);
});

test('tblab emulator on a port in use exits 2 with PORT_IN_USE naming the port', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  t.after(() => holder.close());
  const port = String((holder.address() as net.AddressInfo).port);
  const child = spawn(process.execPath, [MAIN, 'emulator', '--http-port', '0', '--mqtt-port', port], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b));
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(err, new RegExp(`PORT_IN_USE.*MQTT listener could not bind 127\\.0\\.0\\.1:${port}`));
});

test('tblab emulator --control-token guards /__emulator; EMULATOR_CONTROL_TOKEN works too; the token is not printed', async (t) => {
  const { lines, stderr } = await startCli(t, ['--control-token', 'cli-Secret-7', '--connect-timeout', '5']);
  const restUrl = lines[0].slice(5);
  assert.equal((await fetch(`${restUrl}/__emulator/stats`)).status, 401);
  assert.equal((await fetch(`${restUrl}/__emulator/stats`, { headers: { 'X-Emulator-Token': 'cli-Secret-7' } })).status, 200);
  assert.ok(!stderr().includes('cli-Secret-7') && !lines.join('').includes('cli-Secret-7'));
  const fromEnv = await startCli(t, [], { EMULATOR_CONTROL_TOKEN: 'env-Secret-8' });
  const envUrl = fromEnv.lines[0].slice(5);
  assert.equal((await fetch(`${envUrl}/__emulator/faults`)).status, 401);
  assert.equal((await fetch(`${envUrl}/__emulator/faults`, { headers: { 'X-Emulator-Token': 'env-Secret-8' } })).status, 200);
  const bad = spawnSync(process.execPath, [MAIN, 'emulator', '--connect-timeout', 'soon'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--connect-timeout/);
});
