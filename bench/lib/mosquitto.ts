// The benchmark's target: Debian's mosquitto started on a free loopback port with a throw-away
// config (no persistence, $SYS every second, no connection cap), so the target's cost is not ours.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';

export const INSTALL_HINT = 'sudo apt-get install -y mosquitto mosquitto-clients   (Debian/Ubuntu; mosquitto ≥ 2.0)';

export class MosquittoMissing extends Error {
  constructor() {
    super(`mosquitto is not installed (looked in PATH, /usr/sbin and /usr/local/sbin).\nInstall it with:\n  ${INSTALL_HINT}`);
  }
}

/** Path of the mosquitto binary, or null. */
export function findMosquitto(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    const p = join(d, 'mosquitto');
    if (d && existsSync(p)) return p;
  }
  return null;
}

export interface Mosquitto {
  host: string;
  port: number;
  pid: number;
  /** Stops the broker (SIGTERM, then SIGKILL after 3 s) and removes its temp directory. */
  stop(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/**
 * Starts mosquitto on 127.0.0.1 (any free port). Clients may connect from any 127.0.0.0/8 source
 * address. mosquitto opens one file per connection, so it holds at most ~RLIMIT_NOFILE clients.
 */
export async function startMosquitto(opts: { host?: string } = {}): Promise<Mosquitto> {
  const bin = findMosquitto();
  if (!bin) throw new MosquittoMissing();
  const host = opts.host ?? '127.0.0.1';
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(host);
    const dir = mkdtempSync(join(tmpdir(), 'tblab-bench-mosq-'));
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        `listener ${port} ${host}`,
        'allow_anonymous true',
        'max_connections -1',
        'sys_interval 1',
        'persistence false',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
    const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + 5000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await canConnect(host, port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (up) {
      return {
        host,
        port,
        pid: child.pid!,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 3000);
            await exited(child);
            clearTimeout(t);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await exited(child);
    rmSync(dir, { recursive: true, force: true });
    lastError = stderr.trim() || `did not accept connections on ${host}:${port} within 5 s`;
  }
  throw new Error(`mosquitto could not be started: ${lastError}`);
}
