// Test helpers for the embedded emulator: start one on 127.0.0.1 port 0 (closed after the test),
// log in, call REST over real HTTP, create devices, read stats, and poll until a condition holds.
import type { TestContext } from 'node:test';
import { createEmulator, type Emulator, type EmulatorAddress, type EmulatorOptions, type EmulatorStats, type DeviceDetail } from '../../src/emulator/index.js';

export type StartedEmulator = Emulator & EmulatorAddress;

/**
 * Starts an emulator on 127.0.0.1 with free ports and registers `t.after(close)`.
 * Returns the emulator with its address fields (`restUrl`, `mqttUrl`, `httpPort`, `mqttPort`) spread in.
 */
export async function startEmulator(t: Pick<TestContext, 'after'>, opts: EmulatorOptions = {}): Promise<StartedEmulator> {
  const emulator = createEmulator({ host: '127.0.0.1', httpPort: 0, mqttPort: 0, ...opts });
  const address = await emulator.listen();
  t.after(() => emulator.close());
  return Object.assign(emulator, address);
}

export interface RestResponse<T = any> {
  status: number;
  /** Parsed JSON when the reply is JSON, else the text ('' for empty bodies). */
  body: T;
  headers: Headers;
}

/** One REST call over real HTTP. `token` goes into `X-Authorization: Bearer`. Never throws on HTTP status. */
export async function rest<T = any>(baseUrl: string, method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<RestResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['X-Authorization'] = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(new URL(path, baseUrl), { method, headers, body });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('application/json') && text !== '';
  return { status: res.status, body: (json ? JSON.parse(text) : text) as T, headers: res.headers };
}

/** Logs in (default tenant@thingsboard.org / tenant) and returns `{ token, refreshToken }`; throws unless 200. */
export async function restLogin(baseUrl: string, username = 'tenant@thingsboard.org', password = 'tenant'): Promise<{ token: string; refreshToken: string }> {
  const r = await rest(baseUrl, 'POST', '/api/auth/login', { body: { username, password } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Creates a device over REST (`POST /api/device?accessToken=`); returns its id. Throws unless 200. */
export async function createDevice(baseUrl: string, token: string, name: string, accessToken = name): Promise<string> {
  const r = await rest(baseUrl, 'POST', `/api/device?accessToken=${encodeURIComponent(accessToken)}`, { token, body: { name } });
  if (r.status !== 200) throw new Error(`create device ${name} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id.id as string;
}

/** GET /__emulator/stats over HTTP. */
export async function fetchStats(baseUrl: string): Promise<EmulatorStats> {
  return (await rest<EmulatorStats>(baseUrl, 'GET', '/__emulator/stats')).body;
}

/** GET /__emulator/stats?device=NAME over HTTP. */
export async function fetchDeviceStats(baseUrl: string, name: string): Promise<DeviceDetail> {
  return (await rest<DeviceDetail>(baseUrl, 'GET', `/__emulator/stats?device=${encodeURIComponent(name)}`)).body;
}

/** Polls `check` every 20 ms until it returns a truthy value; throws with `what` after `timeoutMs` (default 10 s). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
