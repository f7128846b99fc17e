// A shard: thousands of simulated devices on one event loop. This is the composition: the state
// machine (shard-state.ts: rows, connect queue, backoff, in-flight windows, stop), the workload
// that does the I/O behind the seam in src/device/workload.ts (chosen by the caller: shard-main.ts),
// the process's timers, and the once-per-second snapshot with its process readings.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Workload, WorkloadHost } from '../device/workload.js';
import { WorkloadMeter } from '../metrics/workload-meter.js';
import { PRIMARY_HISTOGRAM, type WorkloadStatsPart } from '../metrics/workload-stats.js';
import type { WorkloadName } from '../common/workloads.js';
import type { OverlaySet } from '../device/overlay-set.js';
import { createOverlays } from '../device/round-trip-overlays.js';
import { systemClock, type Clock } from './clock.js';
import type { WorkloadFactories } from './workload-factories.js';
import { fleetCauses, fleetCounters, rowKinds, WorkloadMux, type RowKinds } from './workload-rows.js';
import { rssMB } from './rss.js';
import { C, D, D_FIELDS, FLAG_CONNECTED, FLAG_PAUSED } from './counters.js';
import type { ShardDevice, ShardSettings, ShardSnapshot } from './protocol.js';
import { ShardState } from './shard-state.js';
import { S, STATE } from './states.js';
import { shipRows, type ShippedRows } from './row-ship.js';

/** Timeouts, keepalive and stage checks run this often, ms. */
const HOUSEKEEPING_MS = 250;
/**
 * Rows whose only change is traffic (sent, acked, skipped: every publishing device, every second)
 * ship in every 5th snapshot and the final one, as their traffic fields (row-ship.ts); state and
 * error changes ship every second, whole. At 10,000 devices shipping every row each second was most
 * of the supervisor's per-message cost.
 */
const TRAFFIC_ROWS_EVERY = 5;

export interface ShardOutput {
  snapshot(s: ShardSnapshot, final: boolean): void;
}

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
  private readonly rows: RowKinds;
  /** The stats channel: one meter per workload reporting from this shard (its row kinds, overlays). */
  private readonly meters = new Map<WorkloadName, WorkloadMeter>();
  /** rpc / attributes on the `device` rows' sessions (null: none in this run). */
  private readonly overlays: OverlaySet | null;
  /** `device` rows publish telemetry (false when only overlays ride them: `--workload rpc` alone). */
  private readonly telemetry: boolean;

  constructor(
    readonly id: number,
    readonly settings: ShardSettings,
    readonly devices: ShardDevice[],
    private readonly out: ShardOutput,
    factories: WorkloadFactories,
    clock: Clock = systemClock,
  ) {
    this.clock = clock;
    this.cpuAt = clock.now();
    const rows = (this.rows = rowKinds(devices));
    this.telemetry = (settings.workloads ?? ['device']).includes('device');
    for (const k of rows.kinds) if (k !== 'device' || this.telemetry) this.meter(k);
    this.overlays = createOverlays(settings, devices, clock, (name) => this.meter(name));
    const workload = (host: WorkloadHost, c: Clock) => this.workloads(factories, host, c);
    const quiet = this.telemetry ? undefined : (i: number) => rows.kinds[rows.kind[i]] === 'device';
    this.core = new ShardState(settings, devices, {
      clock,
      workload,
      onStopped: () => this.finish(),
      ...(this.overlays ? { busy: () => this.overlays!.busy() } : {}),
      ...(quiet ? { quiet } : {}),
    });
    // several kinds: each kind's ack latency apart (one kind: its latency is the shard's ack histogram)
    if (rows.kinds.length > 1)
      this.core.tallies.latencyByKind(
        rows.kind,
        rows.kinds.map((k) => this.meter(k).hist[PRIMARY_HISTOGRAM]),
      );
  }

  private meter(name: WorkloadName): WorkloadMeter {
    let m = this.meters.get(name);
    if (!m) this.meters.set(name, (m = new WorkloadMeter(name)));
    return m;
  }

  /** One implementation per row kind present; several are routed per row, one is used as it is. */
  private workloads(factories: WorkloadFactories, host: WorkloadHost, clock: Clock): Workload {
    const { kinds, kind, rows } = this.rows;
    const impls = kinds.map((k, n) => {
      const make = factories[k];
      if (!make) throw new Error(`workload ${k} is not built in this version`);
      const workloads = this.settings.workloads ?? ['device'];
      // the gateway workload carries the rpc overlay's calls to its children (RPC_TARGETS)
      const overlays = k === 'device' || k === 'gateway' ? this.overlays : null;
      return make({ host, clock, devices: this.devices, rows: rows[n], workloads, meter: (name) => this.meter(name), overlays });
    });
    return impls.length === 1 ? impls[0] : new WorkloadMux(kind, impls);
  }

  /** Every meter's share; a fleet kind's rows give its `devices … inFlight`, and its latency the ack histogram. */
  private workloadStats(ackMs: string): Record<string, WorkloadStatsPart> {
    const out: Record<string, WorkloadStatsPart> = {};
    const { kinds } = this.rows;
    const { dev, refusedByKind } = this.core.tallies;
    const fleet = fleetCounters(this.rows, dev, this.core.inflight);
    const causes = fleetCauses(this.rows, dev, refusedByKind);
    for (const [name, m] of this.meters) out[name] = m.take();
    kinds.forEach((k, n) => {
      const part = out[k];
      if (!part) return; // device rows that only carry overlays: no telemetry to report
      Object.assign(part.counters, fleet[n]);
      for (const [c, v] of Object.entries(causes[n])) (part.byCause ??= {})[c] = (part.byCause[c] ?? 0) + v;
      if (kinds.length === 1) part.hist[PRIMARY_HISTOGRAM] = ackMs;
    });
    return out;
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
    this.overlays?.stopCalls();
    this.core.stop(drainMs);
  }

  /** The tenant's token for the overlays' REST calls (they start calling once they have it). */
  setRestToken(token: string): void {
    this.overlays?.setToken(token);
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
    // calls still under way were counted in flight in the final snapshot; the pools go now
    void this.overlays?.close();
  }

  /** Gauges into the counters, and the rows due in this snapshot (every changed one when `final`). */
  private collectRows(final: boolean): Required<ShippedRows> {
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
    return shipRows(dev, dirty, n, final || ++this.rounds % TRAFFIC_ROWS_EVERY === 0);
  }

  private sendSnapshot(final: boolean): void {
    const { changed, traffic } = this.collectRows(final);
    const now = this.clock.now();
    const cpu = process.cpuUsage(this.cpu);
    this.cpu = process.cpuUsage();
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.cpuAt)) * 100;
    this.cpuAt = now;
    const eldP99 = this.eld.count > 0 ? this.eld.percentile(99) / 1e6 : null;
    this.eld.reset();
    const tallies = this.core.tallies.take();
    const snap: ShardSnapshot = {
      shardId: this.id,
      seq: ++this.seq,
      at: Math.round(now),
      counters: Float64Array.from(this.core.tallies.c),
      ...tallies,
      workloads: this.workloadStats(tallies.hist.ackMs),
      eventLoopP99Ms: eldP99,
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      rssMB: rssMB(),
      changed,
      ...(traffic.idx.length ? { traffic } : {}),
      endpoints: this.core.tallies.endpoints.take(this.isUp),
    };
    this.out.snapshot(snap, final);
  }
}
