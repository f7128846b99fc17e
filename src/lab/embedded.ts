// `tblab run --embedded`: the emulator in a child process (so the generator's event-loop stalls
// never show up as server latency), parsed from its `REST …`/`MQTT …` stdout lines (and, with
// --workers, `MQTT_ENDPOINTS host:port,…`, printed before the `MQTT` line).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { LabError } from '../common/errors.js';

export interface EmbeddedEmulator {
  restUrl: string;
  mqttHost: string;
  mqttPort: number;
  /** One endpoint per transport worker with --workers (the lab's MQTT_ENDPOINTS); [] = the one listener above. */
  mqttEndpoints: Array<{ host: string; port: number }>;
  /** The emulator's (front) process; its transport workers are its children. */
  pid: number;
  close(): Promise<void>;
}

/** Devices one emulator transport worker is given: well under this machine's 20,000 open files per process. */
export const DEVICES_PER_WORKER = 15_000;

/** MQTT transports a fleet needs: one per DEVICES_PER_WORKER devices, at least 1. */
export function workersForFleet(devices: number): number {
  return Math.max(1, Math.ceil(devices / DEVICES_PER_WORKER));
}

/**
 * The `tblab emulator` flags for a fleet: `--workers N` when it needs more than one transport; a fleet
 * one process holds keeps the MQTT listener in the emulator's own process (one process fewer, same answers).
 */
export function embeddedWorkerArgs(devices: number): string[] {
  const n = workersForFleet(devices);
  return n > 1 ? ['--workers', String(n)] : [];
}

/** The `MQTT_ENDPOINTS host:port,…` line of `tblab emulator --workers` (IPv6 hosts in brackets). */
export function parseEndpointsLine(list: string): Array<{ host: string; port: number }> {
  return list.split(',').map((e) => {
    const at = e.lastIndexOf(':');
    return { host: e.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(e.slice(at + 1)) };
  });
}

/** Starts `tblab emulator --http-port 0 --mqtt-port 0` and waits for its `REST …`/`MQTT …` lines. */
export async function startEmbeddedEmulator(extraArgs: string[] = [], timeoutMs = 30_000): Promise<EmbeddedEmulator> {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      main,
      'emulator',
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--exit-with-parent',
      String(process.pid),
      ...extraArgs,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true, // its own process group: Ctrl+C reaches the lab, which then stops the emulator last
    },
  );
  const lines = createInterface({ input: child.stdout! });
  let rest: string | null = null;
  let mqtt: URL | null = null;
  let endpoints: Array<{ host: string; port: number }> = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new LabError('TARGET_UNREACHABLE', { message: `The embedded emulator did not start within ${timeoutMs} ms` })),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new LabError('TARGET_UNREACHABLE', { message: `The embedded emulator exited (code ${code}) before listening` }));
    });
    lines.on('line', (l) => {
      if (l.startsWith('REST ')) rest = l.slice(5).trim();
      if (l.startsWith('MQTT_ENDPOINTS ')) endpoints = parseEndpointsLine(l.slice(15).trim());
      if (l.startsWith('MQTT ')) mqtt = new URL(l.slice(5).trim());
      if (rest && mqtt) {
        clearTimeout(timer);
        resolve();
      }
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
    mqttEndpoints: endpoints,
    pid: child.pid!,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
