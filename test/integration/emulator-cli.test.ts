// `tblab emulator` as a process: prints its two URL lines on stdout, serves them, and exits 0 on
// SIGINT and SIGTERM; bad flags exit 2 naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { restLogin, fetchStats } from '../helpers/emulator.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

async function startCli(t: { after(fn: () => void): void }, args: string[]) {
  const child = spawn(process.execPath, [MAIN, 'emulator', '--http-port', '0', '--mqtt-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    const { child, lines, stderr } = await startCli(t, ['--refuse-connects', '0.5', '--rate-limit-device', '20:1,600:60']);
    assert.match(lines[0], /^REST http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lines[1], /^MQTT mqtt:\/\/127\.0\.0\.1:\d+$/);
    const restUrl = lines[0].slice(5);
    const { token } = await restLogin(restUrl);
    assert.ok(token);
    assert.equal((await fetchStats(restUrl)).devices, 0);
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
