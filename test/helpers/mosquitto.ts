// Debian's mosquitto as a plain MQTT broker for tests: started on a free loopback port, and
// restartable on the same port (every session drops, as when a real broker restarts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import type { TestContext } from 'node:test';

const BIN = '/usr/sbin/mosquitto';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); r(true); });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Mosquitto {
  port: number;
  /** Kills the broker (all sessions drop) and starts it again on the same port after `downMs`. */
  restart(downMs?: number): Promise<void>;
}

export async function startMosquitto(t: TestContext): Promise<Mosquitto> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(BIN, ['-p', String(port)], { stdio: 'ignore' });
    await waitListening(port);
  };
  const stop = () => new Promise<void>((resolve) => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  });
  await start();
  t.after(stop);
  return {
    port,
    async restart(downMs = 1000) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
  };
}
