// The supervisor: splits the fleet into shard processes, relays control (pause list, stop),
// merges their snapshots once per second and writes the per-shard logs. It returns results (results-of.ts), not a
// report: src/report/build.ts makes the report and src/lab/pipeline.ts attaches the sinks.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describeError } from '../common/errors.js';
import type { MetricsSnapshot, RunState } from '../metrics/snapshot.js';
import type { RunOutcome } from '../metrics/records.js';
import type { EngineConfig, EngineHandle, EngineOptions, InterimResults, RunResults } from './results.js';
import { Aggregator } from './aggregate.js';
import { checkpointResults, finalResults, type ResultsSource } from './results-of.js';
import { WorkloadAccumulator } from './workload-accumulator.js';
import { keepGatewaysWhole, planShards, type ShardSlice } from './plan.js';
import { stagesDurationSec } from './stages.js';
import { csvRow, makeRunId, RunFiles } from './run-files.js';
import { crashNotes, runHeader, runLine, shardDevices, shardSettings, sourceAddressNotes } from './run-setup.js';
import { systemClock } from './clock.js';
import { createPayloadSource } from '../device/payload.js';
import { watchDisabledDevices, type DisabledWatch } from './disabled-watch.js';
import type { FromShard, ShardEvent, ShardEventBatch, ShardSettings, ShardSnapshot, ToShard } from './protocol.js';

/** After the drain and disconnect, shards that have not reported are killed after this much, ms. */
const SHARD_EXIT_GRACE_MS = 10_000;

interface ShardProc {
  slice: ShardSlice;
  child: ChildProcess;
  final: boolean;
  exited: boolean;
}

class Supervisor extends EventEmitter implements EngineHandle {
  readonly runId: string;
  readonly done: Promise<RunResults>;
  private readonly cfg: EngineConfig;
  private readonly startedAt = wallNow();
  private readonly agg: Aggregator;
  private readonly workloads: WorkloadAccumulator;
  private readonly files: RunFiles | null;
  private readonly procs: ShardProc[] = [];
  private state: RunState = 'starting';
  private stopReason: string | null = null;
  private outcome: RunOutcome = 'completed';
  private stopCalls = 0;
  private timers: NodeJS.Timeout[] = [];
  private disabled: DisabledWatch | null = null;
  private resolveDone!: (r: RunResults) => void;
  private rejectDone!: (e: unknown) => void;
  private finalizing = false;
  private durationSec = 0;
  private readonly shardSettings: ShardSettings;
  private ready = 0;

  constructor(private readonly opts: EngineOptions) {
    super();
    const cfg = (this.cfg = opts.config);
    this.runId = opts.runId ?? makeRunId(new Date(this.startedAt), cfg.instance ?? null);
    this.done = new Promise((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    const slices = keepGatewaysWhole(planShards(opts.fleet.length, cfg.shards, cfg.maxClientsPerProcess), opts.fleet);
    // bad stages or payload template fail here, before any process or file exists
    this.shardSettings = shardSettings(opts, slices.length, this.startedAt);
    if (cfg.payloadTemplate) createPayloadSource(opts.fleet.slice(0, 1), cfg.payloadTemplate);
    this.files = opts.writeFiles === false ? null : new RunFiles(cfg.dataDir, this.runId, slices.length);
    this.agg = new Aggregator(runHeader(opts, this.runId, this.startedAt, slices));
    this.workloads = new WorkloadAccumulator(slices.length, this.startedAt);
    this.start(slices);
  }

  private log(line: string): void {
    this.emit('log', line);
  }

  private start(slices: ShardSlice[]): void {
    const cfg = this.cfg;
    const settings = this.shardSettings;
    for (const n of sourceAddressNotes(cfg, this.opts.fleet.length)) this.note(n);
    this.disabled = watchDisabledDevices(
      cfg.disabledDevicesFile,
      (names) => {
        if (this.state !== 'starting') this.broadcast({ type: 'pause', paused: names });
        this.log(`paused devices: ${names.length}`);
      },
      (msg) => this.note(msg),
    );
    const entry = fileURLToPath(new URL('./shard-main.js', import.meta.url));
    for (const slice of slices) {
      const child = fork(entry, [], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: this.opts.shardExecArgv ?? [],
      });
      const p: ShardProc = { slice, child, final: false, exited: false };
      this.procs.push(p);
      child.on('message', (m: FromShard) => this.onShardMessage(p, m));
      child.on('exit', (code, signal) => this.onShardExit(p, code, signal));
      child.on('error', (e) => this.note(`shard ${slice.id}: ${describeError(e)}`));
      const devices = shardDevices(this.opts.fleet, slice);
      this.send(p, { type: 'init', shardId: slice.id, runId: this.runId, devices, settings, paused: this.disabled.current });
      this.agg.shardStatus(slice.id).pid = child.pid ?? null;
    }
    this.state = 'connecting';
    const stagesSec = stagesDurationSec(settings.stages);
    const durationSec = stagesSec > 0 ? stagesSec : cfg.durationSec;
    // next tick: the caller attaches its 'log' listener after startEngine returns
    const line = runLine(this.opts, this.runId, slices.length, settings, durationSec);
    process.nextTick(() => this.log(line));
    this.durationSec = durationSec;
    this.timers.push(setInterval(() => this.everySecond(), 1000));
  }

  private send(p: ShardProc, m: ToShard): void {
    if (!p.exited && p.child.connected)
      p.child.send(m, (e) => {
        if (e) this.note(`shard ${p.slice.id}: ${describeError(e)}`);
      });
  }

  private broadcast(m: ToShard): void {
    for (const p of this.procs) this.send(p, m);
  }

  note(msg: string): void {
    if (!this.agg.notes.includes(msg)) this.agg.notes.push(msg);
    this.log(`note: ${msg}`);
  }

  private onShardMessage(p: ShardProc, m: FromShard): void {
    switch (m.type) {
      case 'ready':
        this.agg.shardStatus(m.shardId).state = this.stopCalls ? 'stopping' : 'running';
        if (++this.ready === this.procs.length) this.startClock();
        return;
      case 'snapshot':
        this.onShardSnapshot(p, m.snapshot, m.final);
        return;
      case 'fatal': {
        this.note(`shard ${p.slice.id} failed: ${m.message}`);
        const e: ShardEvent = { ts: wallNow(), ev: 'shard', what: 'fatal', error: m.message };
        this.files?.event(p.slice.id, e);
        this.emit('events', { shard: p.slice.id, at: e.ts, events: [e], final: false } satisfies ShardEventBatch);
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown shard message ${JSON.stringify(never)}`);
      }
    }
  }

  private onShardSnapshot(p: ShardProc, s: ShardSnapshot, final: boolean): void {
    this.workloads.apply(s.shardId, s.at, this.agg.shardStatus(s.shardId).state === 'crashed' ? undefined : s.workloads, final);
    const sec = this.agg.apply(s, final);
    this.files?.csv(s.shardId, csvRow(s, sec, this.startedAt));
    if (this.files) for (const e of s.events) this.files.event(s.shardId, e);
    this.emit('events', { shard: s.shardId, at: s.at, events: s.events, final } satisfies ShardEventBatch);
    if (final) {
      p.final = true;
      this.agg.shardStatus(s.shardId).state = 'done';
      this.maybeFinalize();
    }
  }

  private onShardExit(p: ShardProc, code: number | null, signal: NodeJS.Signals | null): void {
    p.exited = true;
    if (!p.final) {
      const st = this.agg.shardStatus(p.slice.id);
      st.state = 'crashed';
      st.exit = signal ? `signal ${signal}` : `exit code ${code}`;
      st.connected = 0;
      this.workloads.crashed(p.slice.id);
      for (const n of crashNotes(p.slice, p.child.pid, st.exit, this.agg.crashed(p.slice.id))) this.note(n);
      const e: ShardEvent = { ts: wallNow(), ev: 'shard', what: 'crashed', exit: st.exit, pid: p.child.pid };
      this.files?.event(p.slice.id, e);
      this.emit('events', { shard: p.slice.id, at: e.ts, events: [e], final: true } satisfies ShardEventBatch);
      if (this.procs.every((x) => x.exited && !x.final)) this.endRun('all shards crashed', 'failed');
      else if (
        this.procs.every((x) => x.exited || this.agg.shardStatus(x.slice.id).state !== 'starting') &&
        this.ready < this.procs.length
      ) {
        this.ready = this.procs.length;
        this.startClock();
      }
    }
    this.maybeFinalize();
  }

  /** The duration counts from the moment every shard is up (process start-up is not load time). */
  private startClock(): void {
    if (this.durationSec > 0 && !this.stopCalls)
      this.timers.push(setTimeout(() => this.endRun('duration reached', 'completed'), this.durationSec * 1000));
  }

  /** The merged snapshot, with the workloads' section (the aggregator's object, so `latest` has it too). */
  private snapshot(now: number, state: RunState, final: boolean): MetricsSnapshot {
    const snap = this.agg.snapshot(now, state);
    const workloads = this.workloads.summary(now, final, this.agg.loadSec(now));
    if (workloads) snap.workloads = workloads;
    return snap;
  }

  private everySecond(): void {
    const snap = this.snapshot(wallNow(), this.state, false);
    if (this.state === 'connecting' && snap.connections.connected >= snap.connections.configured - snap.connections.paused)
      this.state = 'running';
    const sent = snap.traffic.sent + Object.values(snap.workloads ?? {}).reduce((n, w) => n + (typeof w.sent === 'number' ? w.sent : 0), 0);
    if (this.state === 'connecting' && wallNow() - this.startedAt > 1000 && sent > 0) this.state = 'running';
    this.emit('snapshot', snap);
  }

  stop(reason: string): void {
    this.endRun(reason, 'aborted');
  }

  setRestToken(token: string): void {
    this.broadcast({ type: 'rest-token', token });
  }

  private endRun(reason: string, outcome: RunOutcome): void {
    this.stopCalls++;
    if (this.stopCalls > 1) {
      if (this.stopCalls === 2) {
        this.log('hurrying: no more waiting for acks');
        this.broadcast({ type: 'hurry' });
      }
      return;
    }
    this.stopReason = reason;
    this.outcome = outcome;
    this.agg.loadEnded(wallNow());
    this.workloads.loadEnded(wallNow());
    this.state = 'stopping';
    this.log(`stopping (${reason}): draining acks for up to ${this.cfg.drainTimeoutMs} ms`);
    for (const p of this.procs) if (!p.exited) this.agg.shardStatus(p.slice.id).state = 'stopping';
    this.broadcast({ type: 'stop', reason, drainMs: this.cfg.drainTimeoutMs });
    const kill = setTimeout(() => {
      for (const p of this.procs)
        if (!p.exited) {
          this.note(`shard ${p.slice.id} did not finish in time and was killed`);
          p.child.kill('SIGKILL');
        }
    }, this.cfg.drainTimeoutMs + SHARD_EXIT_GRACE_MS);
    this.timers.push(kill);
    this.maybeFinalize();
  }

  private maybeFinalize(): void {
    if (this.finalizing || !this.stopCalls) return;
    if (!this.procs.every((p) => p.final || p.exited)) return;
    this.finalizing = true;
    this.finalize().then(this.resolveDone, this.rejectDone);
  }

  /** What results-of.ts reads the results from. */
  private source(): ResultsSource {
    return {
      runId: this.runId,
      startedAt: this.startedAt,
      agg: this.agg,
      workloads: this.workloads,
      shards: this.procs.map((p) => p.slice.id),
      files: this.files ? this.files.relative : { events: [], metrics: [] },
    };
  }

  interim(): InterimResults | null {
    return this.finalizing ? null : checkpointResults(this.source(), wallNow());
  }

  private async finalize(): Promise<RunResults> {
    for (const t of this.timers) clearTimeout(t);
    this.disabled?.close();
    const finalState: RunState = this.outcome === 'completed' ? 'finished' : this.outcome === 'aborted' ? 'aborted' : 'failed';
    this.state = finalState;
    const now = wallNow();
    const final = this.snapshot(now, finalState, true);
    this.emit('snapshot', final);
    await this.files?.close();
    return finalResults(this.source(), final, now, this.outcome, this.stopReason ?? 'unknown');
  }

  latest(): MetricsSnapshot | null {
    return this.agg.latest;
  }
}

/** The engine's one clock (src/engine/clock.ts), in whole milliseconds for stamps and snapshots. */
const wallNow = () => Math.round(systemClock.now());

export type { EngineConfig, EngineHandle, EngineOptions, InterimResults, RunResults };

/** Starts the engine: shards are forked at once; the handle emits a merged snapshot every second. */
export function startEngine(opts: EngineOptions): EngineHandle {
  return new Supervisor(opts);
}
