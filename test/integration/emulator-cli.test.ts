// `tblab emulator` as a process: prints its two URL lines on stdout, serves them, and exits 0 on
// SIGINT and SIGTERM; bad flags exit 2 naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { TestContext } from 'node:test';
import { restLogin, fetchStats } from '../helpers/emulator.js';
import { startTblab, tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

async function startCli(t: TestContext, args: string[], env: Record<string, string> = {}) {
  const cli = startTblab(t, ['emulator', '--http-port', '0', '--mqtt-port', '0', ...args], { cwd: tmpDir(t, 'tblab-emu-cli-'), env });
  await waitFor('the REST and MQTT lines', () => cli.stdout.split('\n').filter(Boolean).length >= 2 || cli.child.exitCode !== null, 60_000);
  if (cli.child.exitCode !== null) throw new Error(`exited ${cli.child.exitCode} before listening: ${cli.stderr}`);
  return { child: cli.child, lines: cli.stdout.split('\n').filter(Boolean), stderr: () => cli.stderr };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`tblab emulator prints REST and MQTT URLs, serves them, and exits 0 on ${signal}`, async (t) => {
    const { child, lines, stderr } = await startCli(t, [
      '--refuse-connects',
      '0.5',
      '--rate-limit-device',
      '20:1,600:60',
      '--log-events',
      '--summary-every',
      '0.2',
    ]);
    assert.match(lines[0], /^REST http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lines[1], /^MQTT mqtt:\/\/127\.0\.0\.1:\d+$/);
    const restUrl = lines[0].slice(5);
    const { token } = await restLogin(restUrl);
    assert.ok(token);
    assert.equal((await fetchStats(restUrl)).devices, 0);
    await fetch(`${restUrl}/api/device?accessToken=CLI_TOKEN`, {
      method: 'POST',
      headers: { 'X-Authorization': `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{"name":"cli-dev"}',
    });
    await fetch(`${restUrl}/api/v1/CLI_TOKEN/telemetry`, { method: 'POST', body: '{"sequence":1}' });
    const mqttPort = Number(new URL(lines[1].slice(5)).port);
    const sock = net.connect(mqttPort, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: 'c',
        clean: true,
        keepalive: 0,
        username: 'CLI_TOKEN',
      }),
    );
    await waitFor(
      'a summary line and a connect or refusal line',
      () => /emulator: 1 messages/.test(stderr()) && /connect cli-dev \(MQTT v3\.1\.1|refused CONNACK 3 \(fault-refuse\)/.test(stderr()),
    );
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

test('tblab emulator rejects bad flags with exit code 2 and names them', async (t) => {
  const cwd = tmpDir(t, 'tblab-emu-cli-');
  const r = await tblab(t, ['emulator', '--http-port', '0', '--mqtt-port', '0', '--rate-limit-device', '20/s'], { cwd, timeoutMs: 20000 });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /device rate limit: "20\/s" is not a ThingsBoard rate limit/);
  const r2 = await tblab(t, ['emulator', '--refuse-connects', '2'], { cwd, timeoutMs: 20000 });
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /--refuse-connects expects a number from 0 to 1/);
});

test('tblab emulator on a port in use exits 2 with PORT_IN_USE naming the port', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  t.after(() => holder.close());
  const port = String((holder.address() as net.AddressInfo).port);
  const { code, stderr } = await tblab(t, ['emulator', '--http-port', '0', '--mqtt-port', port], { cwd: tmpDir(t, 'tblab-emu-cli-') });
  assert.equal(code, 2);
  assert.match(stderr, new RegExp(`PORT_IN_USE.*MQTT listener could not bind 127\\.0\\.0\\.1:${port}`));
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
  const bad = await tblab(t, ['emulator', '--connect-timeout', 'soon'], { cwd: tmpDir(t, 'tblab-emu-cli-') });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--connect-timeout/);
});
