// Test helpers for the embedded emulator: start one on 127.0.0.1 port 0 (closed after the test),
// log in, call REST over real HTTP, create devices, read stats.
import { cleanup, type Scope } from './cleanup.js';
import {
  createEmulator,
  type Emulator,
  type EmulatorAddress,
  type EmulatorOptions,
  type EmulatorStats,
  type DeviceDetail,
} from '../../src/emulator/index.js';

/** The one emulator handle of the tests: the emulator itself with its address fields spread in. */
export type StartedEmulator = Emulator & EmulatorAddress;

/**
 * Starts an emulator on 127.0.0.1 with free ports; it is closed when `t` ends.
 * Returns the emulator with its address fields (`restUrl`, `mqttUrl`, `httpPort`, `mqttPort`) spread in.
 */
export async function startEmulator(t: Scope, opts: EmulatorOptions = {}): Promise<StartedEmulator> {
  const emulator = createEmulator({ host: '127.0.0.1', httpPort: 0, mqttPort: 0, ...opts });
  const address = await emulator.listen();
  cleanup(t, () => emulator.close());
  return Object.assign(emulator, address);
}

export interface RestResponse<T = any> {
  status: number;
  /** Parsed JSON when the reply is JSON, else the text ('' for empty bodies). */
  body: T;
  headers: Headers;
}

/** One REST call over real HTTP. `token` goes into `X-Authorization: Bearer`. Never throws on HTTP status. */
export async function rest<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RestResponse<T>> {
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
export async function restLogin(
  baseUrl: string,
  username = 'tenant@thingsboard.org',
  password = 'tenant',
): Promise<{ token: string; refreshToken: string }> {
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
