// One measured phase: a fresh mosquitto, one generator process (lab or baseline) with a spec,
// connect, warm up, a fixed window read from $SYS and /proc, stop, and reconcile totals.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { startMosquitto } from './mosquitto.js';
import { SysMonitor, SYS_CLIENTS_CONNECTED, SYS_PUBLISH_RECEIVED, type SysReading } from './sys-monitor.js';
import { cpuDelta, cpuSeconds, machineCpu, processTree, rssMB } from './proc.js';
import type { FromGen, GenDone, GenSpec, ToGen } from './protocol.js';

export interface PhaseTiming {
  /** Seconds after all devices connected before the window opens. */
  warmupSec: number;
  /** Length of the measurement window, s (0 = connect only: idle scenarios). */
  windowSec: number;
  /** Soak: sample the generator's RSS every this many seconds during the window (0 = off). */
  rssEverySec: number;
  /** Give up if the fleet is not connected after this long, s. */
  connectTimeoutSec: number;
}

export interface PhaseWindow {
  seconds: number;
  received: number;
  receivedPerSec: number;
  genCpuSeconds: number;
  /** The same per process: the generator's main process (lab: supervisor) first, then its children. */
  genCpuSecondsByProcess: number[];
  usPerMsg: number | null;
  /** mosquitto's own CPU per message received, µs. */
  targetUsPerMsg: number | null;
  /** CPU used by neither the generator, the target nor the harness, % of the machine. */
  foreignCpuPct: number;
}

export interface PhaseResult {
  /** As reported by the generator: first connect attempt to last CONNACK, s. */
  connectSeconds: number;
  /** Clients the target counted once the generator said it was connected. */
  targetConnected: number;
  /** Generator CPU from fork until connected, s (start-up included). */
  connectCpuSeconds: number;
  /** Generator tree RSS 2 s after all connected, MB. */
  rssConnectedMB: number;
  /** The same per process, MB: the generator's main process first, then its children (lab shards). */
  rssConnectedByProcessMB: number[];
  processes: number;
  window: PhaseWindow | null;
  /** RSS samples during the window: [seconds since window start, MB]. */
  rssSeries: Array<[number, number]>;
  /** Generator tree RSS at the end of the window, MB. */
  rssMB: number;
  done: GenDone;
  /** PUBLISH messages mosquitto counted over the whole phase (settled after stop). */
  receivedTotal: number;
}

/** Kills of the live generator and target, for the harness's own signal handler. */
export const liveCleanups = new Set<() => void>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Generator {
  /** The latest message of each type not yet taken by `expect`. */
  private readonly got = new Map<FromGen['type'], FromGen>();
  private failure: string | null = null;
  private readonly wakers = new Set<() => void>();
  private stderr = '';
  readonly child: ChildProcess;

  constructor(entry: string, spec: GenSpec, execArgv: string[]) {
    this.child = fork(entry, [JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('message', (m: FromGen) => this.push(m));
    this.child.on('exit', (code, sig) =>
      this.push({ type: 'error', message: `generator exited (code ${code}, signal ${sig}) ${this.stderr.trim()}` }),
    );
  }

  private push(m: FromGen): void {
    if (m.type === 'error') this.failure ??= m.message;
    else this.got.set(m.type, m);
    for (const w of this.wakers) w();
  }

  /** The message of `type` (waiting for it); a generator error or the timeout rejects. */
  async expect<T extends FromGen['type']>(type: T, timeoutMs: number): Promise<Extract<FromGen, { type: T }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = this.got.get(type);
      if (m) {
        this.got.delete(type);
        return m as Extract<FromGen, { type: T }>;
      }
      if (this.failure) throw new Error(this.failure);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`generator: no '${type}' within ${Math.round(timeoutMs / 1000)} s ${this.stderr.trim()}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          this.wakers.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, left);
        this.wakers.add(wake);
      });
    }
  }

  send(m: ToGen): void {
    if (this.child.connected) this.child.send(m);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }
}

/** @param pin generator (and its shards) on CPU 0, mosquitto on CPU 1 (`taskset`) */
export async function runPhase(
  entry: string,
  spec: Omit<GenSpec, 'host' | 'port'>,
  timing: PhaseTiming,
  execArgv: string[] = [],
  pin = false,
): Promise<PhaseResult> {
  const mosq = await startMosquitto();
  const sys = await SysMonitor.open(mosq.host, mosq.port);
  const gen = new Generator(entry, { ...spec, host: mosq.host, port: mosq.port }, execArgv);
  const root = gen.child.pid!;
  if (pin) {
    // one core each, as the peer table was measured; the lab's shards inherit the affinity
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(root)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(mosq.pid)], { stdio: 'ignore' });
  }
  const kill = () => {
    // the lab's shards first: they would outlive a killed supervisor
    for (const pid of processTree(root).reverse())
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    try {
      process.kill(mosq.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  liveCleanups.add(kill);
  try {
    const c = await connected(gen, sys, spec.devices, timing.connectTimeoutSec * 1000);
    const connectCpuSeconds = [...cpuSeconds(processTree(root)).values()].reduce((a, b) => a + b, 0);
    await sleep(2000);
    const tree = processTree(root);
    const rssConnectedByProcessMB = tree.map((pid) => Math.round(rssMB([pid])));
    const rssConnectedMB = rssMB(tree);
    // the monitor's own connection is one of the clients; $SYS may lag the generator's count by a few updates
    const reading = sys.current(SYS_CLIENTS_CONNECTED);
    const all =
      reading && reading.value >= spec.devices + 1
        ? reading
        : await sys.next(SYS_CLIENTS_CONNECTED, 10_000, (r) => r.value >= spec.devices + 1);
    const targetConnected = ((all ?? sys.current(SYS_CLIENTS_CONNECTED))?.value ?? 1) - 1;

    let window: PhaseWindow | null = null;
    const rssSeries: Array<[number, number]> = [];
    if (timing.windowSec > 0) {
      await sleep(Math.max(0, timing.warmupSec - 2) * 1000);
      window = await measureWindow(gen, sys, root, mosq.pid, timing, rssSeries);
    }
    const rssEnd = rssMB(processTree(root));
    gen.send({ type: 'stop' });
    const done = await gen.expect('done', 60_000);
    const receivedTotal = await sys.settled(SYS_PUBLISH_RECEIVED);
    return {
      connectSeconds: done.connectSeconds ?? c.seconds,
      targetConnected,
      connectCpuSeconds,
      rssConnectedMB,
      rssConnectedByProcessMB,
      processes: tree.length,
      window,
      rssSeries,
      rssMB: rssEnd,
      done,
      receivedTotal,
    };
  } finally {
    liveCleanups.delete(kill);
    // let the lab's shards exit on their own (they write --cpu-prof profiles on exit), then kill
    for (let k = 0; k < 50 && processTree(root).length > 1; k++) await sleep(100);
    for (const pid of processTree(root).slice(1))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    await gen.kill();
    sys.close();
    await mosq.stop();
  }
}

/**
 * All devices are connected when the generator says so or when mosquitto counts them (whichever
 * comes first): an overloaded generator may report late, the target's count does not depend on it.
 */
async function connected(gen: Generator, sys: SysMonitor, devices: number, timeoutMs: number): Promise<{ seconds: number }> {
  const t0 = performance.now();
  const all = (r: SysReading) => r.value >= devices + 1;
  const fromTarget = (async () => {
    const now = sys.current(SYS_CLIENTS_CONNECTED);
    const r = now && all(now) ? now : await sys.next(SYS_CLIENTS_CONNECTED, timeoutMs, all);
    return r ? { seconds: (r.at - t0) / 1000 } : new Promise<never>(() => {});
  })();
  return Promise.race([gen.expect('connected', timeoutMs), fromTarget]);
}

async function measureWindow(
  gen: Generator,
  sys: SysMonitor,
  root: number,
  mosqPid: number,
  timing: PhaseTiming,
  rssSeries: Array<[number, number]>,
): Promise<PhaseWindow> {
  // the window opens and closes on $SYS updates so the message count and the CPU span the same time
  const r0 = await sys.next(SYS_PUBLISH_RECEIVED, 5000);
  if (!r0) throw new Error('mosquitto reported no PUBLISH for 5 s: the generator is not publishing');
  const pids = processTree(root);
  const cpu0 = cpuSeconds(pids);
  const mq0 = cpuSeconds([mosqPid]);
  const m0 = machineCpu();
  const self0 = process.cpuUsage();
  gen.send({ type: 'window-start' });
  const end = r0.at + timing.windowSec * 1000;
  while (performance.now() < end - 50) {
    const step = timing.rssEverySec > 0 ? Math.min(timing.rssEverySec * 1000, end - performance.now()) : end - performance.now();
    await sleep(Math.max(0, step - 50));
    if (timing.rssEverySec > 0) rssSeries.push([Math.round((performance.now() - r0.at) / 1000), rssMB(processTree(root))]);
  }
  const r1 = await sys.next(SYS_PUBLISH_RECEIVED, 5000);
  if (!r1) throw new Error('mosquitto reported no PUBLISH for 5 s at the end of the window');
  const cpu1 = cpuSeconds(processTree(root));
  const mq1 = cpuSeconds([mosqPid]);
  const m1 = machineCpu();
  const self = process.cpuUsage(self0);
  gen.send({ type: 'window-end' });

  const seconds = (r1.at - r0.at) / 1000;
  const received = r1.value - r0.value;
  const genCpuSeconds = cpuDelta(cpu0, cpu1);
  const genCpuSecondsByProcess = pids.map((pid) => Math.round(((cpu1.get(pid) ?? 0) - (cpu0.get(pid) ?? 0)) * 100) / 100);
  const mosqCpu = cpuDelta(mq0, mq1);
  const foreign = m1.busy - m0.busy - genCpuSeconds - mosqCpu - (self.user + self.system) / 1e6;
  const machineSeconds = m1.total - m0.total;
  return {
    seconds,
    received,
    receivedPerSec: received / seconds,
    genCpuSeconds,
    genCpuSecondsByProcess,
    usPerMsg: received > 0 ? (genCpuSeconds * 1e6) / received : null,
    targetUsPerMsg: received > 0 ? (mosqCpu * 1e6) / received : null,
    foreignCpuPct: Math.max(0, (100 * foreign) / machineSeconds),
  };
}
