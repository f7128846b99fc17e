// Debian's mosquitto as a plain MQTT broker for tests: a temp config on a free loopback port,
// anonymous access, no in-flight cap; restartable on the same port (every session drops, as when a
// real broker restarts); stopped when the test ends. Its config folder is also its TMPDIR, so
// whatever it writes there goes when that folder is removed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { cleanup, type Scope } from './cleanup.js';
import { tmpDir } from './tmp.js';
import { waitFor } from './wait.js';

export const hasMosquitto = () =>
  spawnSync('sh', ['-c', 'command -v mosquitto || test -x /usr/sbin/mosquitto'], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const listening = (port: number) =>
  new Promise<boolean>((res) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.destroy();
      res(true);
    });
    c.on('error', () => res(false));
  });

export interface Mosquitto {
  port: number;
  /** Kills the broker (all sessions drop) and starts it again on the same port after `downMs`. */
  restart(downMs?: number): Promise<void>;
}

/** @param tls PEM files of the server certificate and key: the listener speaks TLS only */
export async function startMosquitto(t: Scope, tls?: { certFile: string; keyFile: string }): Promise<Mosquitto> {
  const dir = tmpDir(t, 'tblab-mosq-');
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const tlsLines = tls ? `certfile ${tls.certFile}\nkeyfile ${tls.keyFile}\n` : '';
  writeFileSync(conf, `listener ${port} 127.0.0.1\n${tlsLines}allow_anonymous true\nmax_inflight_messages 0\nmax_queued_messages 0\n`);
  const bin = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).stdout.trim() || '/usr/sbin/mosquitto';
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(bin, ['-c', conf], { stdio: 'ignore', env: { ...process.env, TMPDIR: dir } });
    await waitFor(`mosquitto listening on ${port}`, () => listening(port), 10_000, 50);
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  cleanup(t, stop);
  await start();
  return {
    port,
    async restart(downMs = 1000) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
  };
}
