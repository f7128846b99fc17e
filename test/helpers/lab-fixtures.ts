// Fixtures of the provisioning / fleet-control tests: a started emulator, a throw-away data dir,
// the lab config pointing at both, the built CLI as a child process, and an output sink.
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.js';
import { startEmulator } from './emulator.js';
import { loadConfigOrThrow, type ResolvedConfig } from '../../src/config/index.js';
import { TbClient } from '../../src/thingsboard/client.js';

/** dist/src/cli/main.js, next to this compiled file's tree. */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

export interface StartedEmulator {
  emu: Emulator;
  restUrl: string;
  mqttPort: number;
}

/** An emulator on 127.0.0.1 port 0, closed after the test. */
export async function emulator(t: TestContext, opts: EmulatorOptions = {}): Promise<StartedEmulator> {
  const emu = await startEmulator(t, opts);
  return { emu, restUrl: emu.restUrl, mqttPort: emu.mqttPort };
}

export function tmpDir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tblab-fleet-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Environment of a lab run against `e` with its files in `dir` (no .env file is read). */
export function labEnv(e: StartedEmulator, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { TB_URL: e.restUrl, MQTT_PORT: String(e.mqttPort), DATA_DIR: join(dir, 'data'), ...extra };
}

export function labConfig(env: Record<string, string>, dir: string): ResolvedConfig {
  return loadConfigOrThrow({ env, envFile: false, cwd: dir }).config;
}

/** A REST client of the emulator for assertions (default credentials). */
export function adminClient(t: TestContext, restUrl: string): TbClient {
  const c = new TbClient({ baseUrl: restUrl, username: 'tenant@thingsboard.org', password: 'tenant', timeoutMs: 10_000, retries: 3, connections: 16 });
  t.after(() => c.close());
  return c;
}

/** Collects what a use case writes to its stderr. */
export function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with exactly `env` (plus PATH); `onSpawn` may kill it. */
export function runCli(args: string[], env: Record<string, string>, cwd: string, onSpawn?: (pid: number, kill: (s: NodeJS.Signals) => void) => void): Promise<CliResult> {
  return new Promise((resolveP, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code, signal) => resolveP({ code, signal, stdout, stderr }));
    onSpawn?.(child.pid!, (s) => child.kill(s));
  });
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
