// `tblab run --embedded`: the emulator in a child process (so the generator's event-loop stalls
// never show up as server latency), parsed from its `REST …`/`MQTT …` stdout lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { LabError } from '../shared/errors.js';

export interface EmbeddedEmulator {
  restUrl: string;
  mqttHost: string;
  mqttPort: number;
  close(): Promise<void>;
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
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
