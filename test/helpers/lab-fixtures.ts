// Fixtures of the provisioning / fleet-control tests: the lab config pointing at an emulator and a
// data dir, a REST client for assertions, an output sink, and a port nothing listens on.
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import type { StartedEmulator } from './emulator.js';
import { cleanup, type Scope } from './cleanup.js';
import { loadConfigOrThrow, type ResolvedConfig } from '../../src/config/index.js';
import { TbClient } from '../../src/thingsboard/client.js';

/** Environment of a lab run against `e` with its files in `dir` (no .env file is read). */
export function labEnv(
  e: Pick<StartedEmulator, 'restUrl' | 'mqttPort'>,
  dir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { TB_URL: e.restUrl, MQTT_PORT: String(e.mqttPort), DATA_DIR: join(dir, 'data'), ...extra };
}

export function labConfig(env: Record<string, string>, dir: string): ResolvedConfig {
  return loadConfigOrThrow({ env, envFile: false, cwd: dir }).config;
}

/** A REST client of the emulator for assertions (default credentials), closed when `t` ends. */
export function adminClient(t: Scope, restUrl: string): TbClient {
  const c = new TbClient({
    baseUrl: restUrl,
    username: 'tenant@thingsboard.org',
    password: 'tenant',
    timeoutMs: 10_000,
    retries: 3,
    connections: 16,
  });
  cleanup(t, () => c.close());
  return c;
}

/** Collects what a use case writes to its stderr. */
export function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
