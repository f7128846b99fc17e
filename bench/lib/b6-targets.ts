// B6's two targets behind one face: `tblab emulator --workers N` (one REST front, N MQTT transport
// processes) and K separate mosquitto processes. Each answers how many clients it holds, how many
// PUBLISH messages it took and which processes are its own (for CPU and RSS).
import { startEmbeddedEmulator, workersForFleet } from '../../src/lab/embedded.js';
import { startMosquitto } from './mosquitto.js';
import { SysMonitor, SYS_CLIENTS_CONNECTED, SYS_PUBLISH_RECEIVED } from './sys-monitor.js';
import { processTree } from './proc.js';
import { liveCleanups } from './phase.js';

export interface Count {
  value: number;
  /** performance.now() of the reading, ms. */
  at: number;
}

export interface B6Target {
  kind: 'emulator' | 'mosquitto';
  /** The lab's MQTT_ENDPOINTS for it. */
  endpoints: string[];
  /** REST URL (the emulator), else null. */
  restUrl: string | null;
  /** Its processes: the first is the emulator's front (mosquitto: the first broker). */
  pids(): number[];
  /** Clients connected now (mosquitto: the latest `$SYS` value of each broker, summed). */
  connected(): Promise<number>;
  /** PUBLISH messages taken so far, per process that counts them (the emulator: one count, the front's). */
  received(): Promise<Count[]>;
  /** After the lab stopped: the final count, once it no longer changes. */
  settledReceived(): Promise<number>;
  close(): Promise<void>;
}

interface EmuStats {
  messages: number;
  connections: { current: number };
  workers: Array<{ pid: number }> | null;
}

/**
 * The emulator with enough transport workers for the fleet (the rule `--embedded` uses,
 * `workersForFleet`), and at least 2 so a small validation run has the same shape as the 100k one.
 */
export async function emulatorTarget(devices: number): Promise<B6Target> {
  const workers = Math.max(2, workersForFleet(devices));
  // sessions stay up for the whole run however long the ramp takes; no summary lines on stderr
  const emu = await startEmbeddedEmulator(['--workers', String(workers), '--session-timeout', '3600', '--summary-every', '0'], 60_000);
  const stats = async (): Promise<EmuStats> => {
    const r = await fetch(`${emu.restUrl}/__emulator/stats?perDevice=0`);
    if (!r.ok) throw new Error(`emulator stats answered ${r.status}`);
    return (await r.json()) as EmuStats;
  };
  const st = await stats();
  if ((st.workers?.length ?? 0) !== workers) throw new Error(`the emulator runs ${st.workers?.length ?? 0} workers, asked for ${workers}`);
  return {
    kind: 'emulator',
    endpoints: emu.mqttEndpoints.map((e) => `${e.host}:${e.port}`),
    restUrl: emu.restUrl,
    pids: () => processTree(emu.pid),
    connected: async () => (await stats()).connections.current,
    received: async () => {
      const s = await stats();
      return [{ value: s.messages, at: performance.now() }];
    },
    settledReceived: async () => (await stats()).messages,
    close: () => emu.close(),
  };
}

/** `count` fresh mosquitto processes (bench/lib/mosquitto.ts), one port each, each with its `$SYS` monitor. */
export async function mosquittoTarget(count: number): Promise<B6Target> {
  const brokers = await Promise.all(Array.from({ length: count }, () => startMosquitto()));
  const monitors = await Promise.all(brokers.map((b) => SysMonitor.open(b.host, b.port)));
  // the harness's Ctrl+C handler kills them too
  const kill = () => {
    for (const b of brokers)
      try {
        process.kill(b.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  };
  liveCleanups.add(kill);
  const value = (m: SysMonitor, topic: string) => m.current(topic)?.value ?? 0;
  return {
    kind: 'mosquitto',
    endpoints: brokers.map((b) => `${b.host}:${b.port}`),
    restUrl: null,
    pids: () => brokers.map((b) => b.pid),
    // each monitor's own connection is one of its broker's clients
    connected: async () => monitors.reduce((n, m) => n + Math.max(0, value(m, SYS_CLIENTS_CONNECTED) - 1), 0),
    // each broker's latest reading with its arrival time (mosquitto publishes $SYS once a second, on change)
    received: async () => monitors.map((m) => m.current(SYS_PUBLISH_RECEIVED) ?? { value: 0, at: performance.now() }),
    settledReceived: async () => (await Promise.all(monitors.map((m) => m.settled(SYS_PUBLISH_RECEIVED)))).reduce((a, b) => a + b, 0),
    close: async () => {
      for (const m of monitors) m.close();
      await Promise.all(brokers.map((b) => b.stop()));
      liveCleanups.delete(kill);
    },
  };
}

/** Messages per second between two `received()` readings: per counting process, over its own reading times. */
export function ratePerSec(before: Count[], after: Count[]): { messages: number; perSec: number } {
  let messages = 0;
  let perSec = 0;
  after.forEach((a, i) => {
    const b = before[i];
    messages += a.value - b.value;
    if (a.at > b.at) perSec += ((a.value - b.value) * 1000) / (a.at - b.at);
  });
  return { messages, perSec };
}
