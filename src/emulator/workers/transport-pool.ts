// The front's side of `--workers N`: starts N transport workers (transport-worker.ts), one MQTT
// port each (base, base+1, …, or any free port each for base 0), turns their sockets into relays
// for the one MqttServer, and restarts a worker that died on the same port, so the devices it held
// reconnect to the endpoint they had. Its sessions are closed at once (reason `worker-exit`).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { F, FrameReader, FrameWriter } from './wire.js';
import { RelaySocket } from './relay-socket.js';

export interface TransportPoolOptions {
  count: number;
  host: string;
  /** Port of worker 0; worker i listens on port + i. 0 = any free port for each. */
  port: number;
  /** A socket a worker accepted (MqttServer.accept). */
  accept(socket: RelaySocket): void;
  /** A worker died: these relays' sessions end now. */
  lost(relays: RelaySocket[], worker: WorkerExit): void;
  /** Wait before restarting a dead worker, ms (doubles while it keeps dying, at most 10 s). */
  restartDelayMs?: number;
}

export interface WorkerExit {
  index: number;
  port: number;
  code: number | null;
  signal: string | null;
  /** Client sockets it held (their sessions closed with reason `worker-exit`). */
  sockets: number;
}

/** One worker in the emulator's stats. */
export interface TransportWorkerStats {
  /** `host:port` the lab connects to. */
  endpoint: string;
  pid: number | null;
  up: boolean;
  /** Client sockets open on it now (as the front knows them). */
  sockets: number;
  /** Processes started on this port (1 + restarts). */
  starts: number;
  /** Unexpected exits, and the last one's code or signal. */
  exits: number;
  lastExit: string | null;
  /** The worker's own resident memory and CPU time, as it last reported them (every second). */
  rssBytes: number;
  cpuSec: number;
}

const WORKER_SCRIPT = fileURLToPath(new URL('./transport-worker.js', import.meta.url));

class Worker {
  child: ChildProcess | null = null;
  writer: FrameWriter | null = null;
  readonly relays = new Map<number, RelaySocket>();
  starts = 0;
  exits = 0;
  lastExit: string | null = null;
  recentExits: number[] = [];
  /** Listened at least once: only such a worker is restarted (a first start that fails fails start()). */
  everReady = false;
  usage = { rssBytes: 0, cpuMicros: 0 };

  constructor(
    readonly index: number,
    public port: number,
  ) {}

  send(type: number, conn: number, payload?: Buffer): void {
    this.writer?.send(type, conn, payload);
  }

  forget(conn: number): void {
    this.relays.delete(conn);
  }
}

export class TransportPool {
  private readonly workers: Worker[];
  private closing = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly o: TransportPoolOptions) {
    this.workers = Array.from({ length: o.count }, (_, i) => new Worker(i, o.port === 0 ? 0 : o.port + i));
  }

  /** Starts every worker; resolves with the `host:port` endpoints, or rejects (all stopped) when one cannot listen. */
  async start(): Promise<string[]> {
    try {
      await Promise.all(this.workers.map((w) => this.spawn(w)));
    } catch (e) {
      await this.close();
      throw e;
    }
    return this.endpoints();
  }

  endpoints(): string[] {
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    return this.workers.map((w) => `${host}:${w.port}`);
  }

  get ports(): number[] {
    return this.workers.map((w) => w.port);
  }

  private spawn(w: Worker): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [WORKER_SCRIPT, this.o.host, String(w.port)], {
        stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      });
      w.child = child;
      w.starts++;
      const link = child.stdio[3] as Socket;
      const writer = new FrameWriter(link);
      w.writer = writer;
      let ready = false;
      const reader = new FrameReader((type, conn, payload) => {
        if (type === F.DATA) return w.relays.get(conn)?.received(payload);
        if (type === F.OPEN) {
          const [address, port] = payload.toString().split('\n');
          const relay = new RelaySocket(w, conn, address, Number(port));
          w.relays.set(conn, relay);
          return this.o.accept(relay);
        }
        if (type === F.CLOSE) return w.relays.get(conn)?.closedByWorker();
        if (type === F.STATS) return void (w.usage = JSON.parse(payload.toString()) as Worker['usage']);
        if (type === F.READY) {
          ready = true;
          w.everReady = true;
          w.port = (JSON.parse(payload.toString()) as { port: number }).port;
          return resolve();
        }
        if (type === F.FAILED) {
          const f = JSON.parse(payload.toString()) as { code: string; message: string };
          reject(Object.assign(new Error(`MQTT worker ${w.index}: ${f.message}`), { code: f.code }));
        }
      });
      link.on('data', (chunk: Buffer) => reader.push(chunk));
      link.on('error', () => {}); // the exit handler settles everything
      child.once('exit', (code, signal) => {
        writer.close();
        if (!ready)
          reject(Object.assign(new Error(`MQTT worker ${w.index} exited (code ${code}) before listening`), { code: 'WORKER_EXIT' }));
        this.onExit(w, child, code, signal);
      });
    });
  }

  private onExit(w: Worker, child: ChildProcess, code: number | null, signal: string | null): void {
    if (w.child !== child) return;
    w.child = null;
    w.writer = null;
    const relays = [...w.relays.values()];
    for (const r of relays) r.lose();
    w.relays.clear();
    if (this.closing || !w.everReady) return;
    w.exits++;
    w.lastExit = signal ?? `code ${code}`;
    this.o.lost(relays, { index: w.index, port: w.port, code, signal, sockets: relays.length });
    // restart on the same port; back off while it keeps dying
    const now = Date.now();
    w.recentExits = [...w.recentExits.filter((t) => now - t < 60_000), now];
    const delay = Math.min(10_000, (this.o.restartDelayMs ?? 500) * 2 ** (w.recentExits.length - 1));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closing) this.spawn(w).catch(() => {}); // a failed restart exits, and is retried the same way
    }, delay);
    this.timers.add(timer);
  }

  stats(): TransportWorkerStats[] {
    const endpoints = this.endpoints();
    return this.workers.map((w, i) => ({
      endpoint: endpoints[i],
      pid: w.child?.pid ?? null,
      up: w.child !== null,
      sockets: w.relays.size,
      starts: w.starts,
      exits: w.exits,
      lastExit: w.lastExit,
      rssBytes: w.usage.rssBytes,
      cpuSec: w.usage.cpuMicros / 1e6,
    }));
  }

  /** Asks every worker to close its sockets and exit; kills those still there after 3 s. */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(
      this.workers.map((w) => {
        const child = w.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        return new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          w.send(F.SHUTDOWN, 0);
          w.writer?.flush();
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        });
      }),
    );
  }
}
