// A shard: thousands of simulated devices on one event loop. This is the composition: the state
// machine (shard-state.ts: rows, connect queue, backoff, in-flight windows, stop), the workload
// that does the I/O behind the seam in src/device/workload.ts (chosen by the caller: shard-main.ts),
// the process's timers, and the once-per-second snapshot with its process readings.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Workload, WorkloadHost } from '../device/workload.js';
import { systemClock, type Clock } from './clock.js';
import { rssMB } from './rss.js';
import { C, D, D_FIELDS, FLAG_CONNECTED, FLAG_PAUSED } from './counters.js';
import type { ShardDevice, ShardSettings, ShardSnapshot } from './protocol.js';
import { ShardState } from './shard-state.js';
import { S, STATE, TRAFFIC } from './states.js';

/** Timeouts, keepalive and stage checks run this often, ms. */
const HOUSEKEEPING_MS = 250;
/**
 * Rows whose only change is traffic (sent, acked, skipped: every publishing device, every second)
 * ship in every 5th snapshot and the final one; state and error changes ship every second. At
 * 10,000 devices shipping every row each second was most of the supervisor's per-message cost.
 */
const TRAFFIC_ROWS_EVERY = 5;

export interface ShardOutput {
  snapshot(s: ShardSnapshot, final: boolean): void;
}

/** Builds the shard's workload; it reports to `host` and reads time from `clock`. */
export type WorkloadFactory = (host: WorkloadHost, clock: Clock) => Workload;

export class Shard {
  readonly core: ShardState;
  private readonly clock: Clock;
  private readonly eld = monitorEventLoopDelay({ resolution: 10 });
  private seq = 0;
  /** Snapshots sent, for TRAFFIC_ROWS_EVERY. */
  private rounds = 0;
  private cpu = process.cpuUsage();
  private cpuAt: number;
  private timers: NodeJS.Timeout[] = [];
  private finished = false;
  private readonly isUp = (i: number) => this.core.state[i] === S.UP;

  constructor(
    readonly id: number,
    readonly settings: ShardSettings,
    readonly devices: ShardDevice[],
    private readonly out: ShardOutput,
    workload: WorkloadFactory,
    clock: Clock = systemClock,
  ) {
    this.clock = clock;
    this.cpuAt = clock.now();
    this.core = new ShardState(settings, devices, { clock, workload, onStopped: () => this.finish() });
  }

  start(pausedNames: string[]): void {
    this.eld.enable();
    const ts = Math.round(this.clock.now());
    this.core.tallies.event({ ts, ev: 'shard', what: 'start', pid: process.pid, devices: this.core.n });
    this.core.start(pausedNames);
    this.timers = [
      setInterval(() => this.core.tick(), this.settings.tickMs),
      setInterval(() => this.core.housekeeping(), HOUSEKEEPING_MS),
      setInterval(() => this.sendSnapshot(false), 1000),
    ];
  }

  setPaused(names: string[]): void {
    this.core.setPaused(names);
  }

  stop(drainMs: number): void {
    this.core.stop(drainMs);
  }

  hurry(): void {
    this.core.hurry();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const t of this.timers) clearInterval(t);
    this.core.tallies.event({ ts: Math.round(this.clock.now()), ev: 'shard', what: 'stopped' });
    this.sendSnapshot(true);
    this.eld.disable();
  }

  /** Gauges into the counters, and the rows due in this snapshot (every changed one when `final`). */
  private collectRows(final: boolean): ShardSnapshot['changed'] {
    const { state, paused, wanted, inflight, n } = this.core;
    const { c, dev, dirty } = this.core.tallies;
    let connected = 0,
      nPaused = 0,
      nWanted = 0,
      failed = 0,
      inFlight = 0;
    for (let i = 0; i < n; i++) {
      const s = state[i];
      const row = i * D_FIELDS;
      const flags = (s === S.UP ? FLAG_CONNECTED : 0) | (paused[i] ? FLAG_PAUSED : 0);
      if (dev[row + D.FLAGS] !== flags) {
        dev[row + D.FLAGS] = flags;
        dirty[i] |= STATE;
      }
      if (s === S.UP) connected++;
      if (paused[i]) nPaused++;
      else if (wanted[i]) {
        nWanted++;
        const everFailed = dev[row + D.CONNECT_FAILURES] > 0;
        if (s === S.BACKOFF || s === S.DOWN || ((s === S.QUEUED || s === S.CONNECTING) && everFailed)) failed++;
      }
      inFlight += inflight.count(i);
    }
    c[C.CONNECTED] = connected;
    c[C.PAUSED] = nPaused;
    c[C.WANTED] = nWanted;
    c[C.FAILED_DEVICES] = failed;
    c[C.IN_FLIGHT] = inFlight;
    const due = final || ++this.rounds % TRAFFIC_ROWS_EVERY === 0 ? TRAFFIC | STATE : STATE;
    let nChanged = 0;
    for (let i = 0; i < n; i++) if (dirty[i] & due) nChanged++;
    const idx = new Int32Array(nChanged);
    const rows = new Float64Array(nChanged * D_FIELDS);
    for (let i = 0, k = 0; i < n; i++) {
      if (!(dirty[i] & due)) continue;
      dirty[i] = 0;
      idx[k] = i;
      rows.set(dev.subarray(i * D_FIELDS, (i + 1) * D_FIELDS), k * D_FIELDS);
      k++;
    }
    return { idx, rows };
  }

  private sendSnapshot(final: boolean): void {
    const changed = this.collectRows(final);
    const now = this.clock.now();
    const cpu = process.cpuUsage(this.cpu);
    this.cpu = process.cpuUsage();
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.cpuAt)) * 100;
    this.cpuAt = now;
    const eldP99 = this.eld.count > 0 ? this.eld.percentile(99) / 1e6 : null;
    this.eld.reset();
    const snap: ShardSnapshot = {
      shardId: this.id,
      seq: ++this.seq,
      at: Math.round(now),
      counters: Float64Array.from(this.core.tallies.c),
      ...this.core.tallies.take(),
      eventLoopP99Ms: eldP99,
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      rssMB: rssMB(),
      changed,
      endpoints: this.core.tallies.endpoints.take(this.isUp),
    };
    this.out.snapshot(snap, final);
  }
}
