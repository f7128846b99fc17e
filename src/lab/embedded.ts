// `tblab run --embedded`: the emulator in a child process (so the generator's event-loop stalls
// never show up as server latency), parsed from its `REST …`/`MQTT …` stdout lines (and, with
// --workers, `MQTT_ENDPOINTS host:port,…`, printed before the `MQTT` line).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { LabError } from '../shared/errors.js';

export interface EmbeddedEmulator {
  restUrl: string;
  mqttHost: string;
  mqttPort: number;
  /** Every MQTT endpoint `host:port` (one per worker with --workers; else the one listener). */
  mqttEndpoints: string[];
  close(): Promise<void>;
}

/** Devices one emulator transport worker is given: well under this machine's 20,000 open files per process. */
export const DEVICES_PER_WORKER = 15_000;

/** `--workers` for a fleet: one per DEVICES_PER_WORKER devices, at least 1. */
export function workersForFleet(devices: number): number {
  return Math.max(1, Math.ceil(devices / DEVICES_PER_WORKER));
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
  let endpoints: string[] | null = null;
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
      if (l.startsWith('MQTT_ENDPOINTS ')) endpoints = l.slice(15).trim().split(',');
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
    mqttEndpoints: endpoints ?? [`${m.hostname}:${m.port}`],
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
