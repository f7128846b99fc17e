// Debian's mosquitto as a plain MQTT broker for engine tests: a temp config on a free loopback
// port, anonymous access, no in-flight cap; stopped after the test.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import type { TestContext } from 'node:test';

export const hasMosquitto = () => spawnSync('sh', ['-c', 'command -v mosquitto || test -x /usr/sbin/mosquitto'], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); res(true); });
      c.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** @param tls PEM files of the server certificate and key: the listener speaks TLS only */
export async function startMosquitto(t: TestContext, tls?: { certFile: string; keyFile: string }): Promise<{ port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tblab-mosq-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const tlsLines = tls ? `certfile ${tls.certFile}\nkeyfile ${tls.keyFile}\n` : '';
  writeFileSync(conf, `listener ${port} 127.0.0.1\n${tlsLines}allow_anonymous true\nmax_inflight_messages 0\nmax_queued_messages 0\n`);
  const bin = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).stdout.trim() || '/usr/sbin/mosquitto';
  const child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port, 10_000);
  return { port };
}
