// `tblab run --embedded`: the emulator in a child process (so the generator's event-loop stalls
// never show up as server latency), and a fleet created in it over REST.
// The device loop below is a stop-gap until `tblab provision` (src/lab/provision) lands: replace
// `createEmbeddedFleet` with a call into it.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { LabError, describeError } from '../shared/errors.js';
import { deviceName, type FleetDevice } from '../shared/fleet.js';

export interface EmbeddedEmulator {
  restUrl: string;
  mqttHost: string;
  mqttPort: number;
  close(): Promise<void>;
}

/** Starts `tblab emulator --http-port 0 --mqtt-port 0` and waits for its `REST …`/`MQTT …` lines. */
export async function startEmbeddedEmulator(extraArgs: string[] = [], timeoutMs = 30_000): Promise<EmbeddedEmulator> {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [main, 'emulator', '--host', '127.0.0.1', '--http-port', '0', '--mqtt-port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true, // its own process group: Ctrl+C reaches the lab, which then stops the emulator last
  });
  const lines = createInterface({ input: child.stdout! });
  let rest: string | null = null;
  let mqtt: URL | null = null;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LabError('TARGET_UNREACHABLE', { message: `The embedded emulator did not start within ${timeoutMs} ms` })), timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); reject(new LabError('TARGET_UNREACHABLE', { message: `The embedded emulator exited (code ${code}) before listening` })); });
    lines.on('line', (l) => {
      if (l.startsWith('REST ')) rest = l.slice(5).trim();
      if (l.startsWith('MQTT ')) mqtt = new URL(l.slice(5).trim());
      if (rest && mqtt) { clearTimeout(timer); resolve(); }
    });
  });
  child.removeAllListeners('exit');
  // detached, so make sure it does not outlive a lab that dies abruptly
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const m = mqtt as unknown as URL;
  return {
    restUrl: rest!,
    mqttHost: m.hostname,
    mqttPort: Number(m.port),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Creates `count` devices named `<prefix>-NNN` with fresh access tokens through the REST API. */
export async function createEmbeddedFleet(restUrl: string, user: string, password: string, prefix: string, count: number, concurrency = 16): Promise<FleetDevice[]> {
  const call = async (path: string, body: unknown, token?: string) => {
    let res: Response;
    try {
      res = await fetch(restUrl + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { 'x-authorization': `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    } catch (e) {
      throw new LabError('TARGET_UNREACHABLE', { message: `${restUrl}${path}: ${describeError(e)}` });
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new LabError('REQUEST_REJECTED', { message: `${path} answered ${res.status}: ${String(json.message ?? '')}` });
    return json;
  };
  const { token } = (await call('/api/auth/login', { username: user, password })) as { token: string };
  const out: FleetDevice[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = ++next;
      const name = deviceName(prefix, index);
      const access = randomBytes(10).toString('hex');
      const d = (await call(`/api/device?accessToken=${access}`, { name, type: 'default', label: 'tb-load-lab' }, token)) as { id: { id: string } };
      out[index - 1] = { name, index, id: d.id.id, credentials: { type: 'ACCESS_TOKEN', token: access } };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}
