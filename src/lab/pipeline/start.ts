// One run: the engine (src/engine) with its sinks, then the report (src/report/build.ts) made of
// the engine's results and the sections the sinks return, written atomically; a partial report
// is checkpointed every few seconds so a crash leaves one. `tblab run`, the benchmark and tests
// start runs here: config in, snapshots and the report out, no process exit.
import { EventEmitter, on } from 'node:events';
import { redactConfig, type ResolvedConfig } from '../../config/index.js';
import type { FleetDevice } from '../../common/fleet.js';
import { describeError } from '../../common/errors.js';
import type { MetricsSnapshot } from '../../metrics/snapshot.js';
import type { RunResults } from '../../metrics/records.js';
import { startEngine, type EngineConfig, type EngineHandle } from '../../engine/supervisor.js';
import { buildReport, mergeSections, type OwnedSections } from '../../report/build.js';
import { ReportFiles } from '../../report/write.js';
import type { RunReport } from '../../report/schema.js';
import { composeLive, type RunSink, type RunView } from './sink.js';
import {
  DEFAULT_MAX_PER_PROCESS,
  connectionPlan,
  describePlan,
  readHostFacts,
  type ConnectionPlan,
  type HostFacts,
} from '../connection-plan.js';
import { feedRestToken } from './rest-token.js';
import { checkpointIntervalMs } from './checkpoint-cadence.js';
import { roundTripConfig, usesRest } from './round-trip-config.js';
import { roundTripLines } from '../../metrics/workload-stats-rpc.js';

export interface RunOptions {
  config: ResolvedConfig;
  /**
   * The devices this lab runs (already sliced for INSTANCE), ordered by index, each with its
   * workload set (assignWorkloads, src/lab/workload-fleet.ts: the caller's fleet is the one its
   * preflight and delivery check saw).
   */
  fleet: FleetDevice[];
  /** Devices in the whole fleet, for the phase spread (default: the highest index in `fleet`). */
  fleetSize?: number;
  runId?: string;
  /** REST URL shown in snapshots (default TB_URL; null when unknown). */
  restUrl?: string | null;
  /** Write report, logs and CSV under DATA_DIR (default true). */
  writeFiles?: boolean;
  /** Delivery check, thresholds, dashboard, progress…: each returns its own sections. */
  sinks?: readonly RunSink[];
  /** Human progress lines (default: none). */
  log?: (line: string) => void;
  /** Node flags of the shard processes, e.g. ['--cpu-prof', '--cpu-prof-dir=prof'] (default none). */
  shardExecArgv?: string[];
  /** Timer wheel tick, ms (default 5). */
  tickMs?: number;
  /** Host facts the connection plan is made for (default: read from this machine). */
  host?: HostFacts;
}

export interface RunHandle extends RunView {
  /** Report path (null when files are off). */
  readonly reportPath: string | null;
  /** Every sink has started; rejects (after the run stopped) when one could not. */
  readonly started: Promise<void>;
  /** Resolves with the final report (also when aborted); rejects only on an internal error. */
  readonly done: Promise<RunReport>;
  on(event: 'snapshot', fn: (s: MetricsSnapshot) => void): this;
  on(event: 'log', fn: (line: string) => void): this;
  off(event: 'snapshot', fn: (s: MetricsSnapshot) => void): this;
  /** Snapshots as an async iterator; ends when the run is done. */
  [Symbol.asyncIterator](): AsyncIterator<MetricsSnapshot>;
}

/**
 * The engine's part of the configuration (the engine never reads the configuration itself); with a
 * connection plan, its shard cap and source addresses (planned when MAX_CLIENTS_PER_PROCESS is 0 or
 * SOURCE_ADDRESSES empty: connection-plan.ts).
 */
export function engineConfig(c: ResolvedConfig, plan?: ConnectionPlan): EngineConfig {
  return {
    mqttHost: c.mqttHost,
    mqttPort: c.mqttPort,
    mqttEndpoints: c.mqttEndpoints,
    mqttTls: c.mqttTls,
    mqttCaFile: c.mqttCaFile,
    mqttCertFile: c.mqttCertFile,
    mqttKeyFile: c.mqttKeyFile,
    mqttTlsInsecure: c.mqttTlsInsecure,
    mqttVersion: c.mqttVersion,
    qos: c.qos,
    keepaliveSec: c.keepaliveSec,
    publishIntervalSec: c.publishIntervalSec,
    publishJitterMs: c.publishJitterMs,
    ackTimeoutMs: c.ackTimeoutMs,
    connectTimeoutMs: c.connectTimeoutMs,
    reconnect: c.reconnect,
    reconnectMinMs: c.reconnectMinMs,
    reconnectMaxMs: c.reconnectMaxMs,
    connectRate: c.connectRate,
    connectMaxInProgress: c.connectMaxInProgress,
    sourceAddresses: plan ? plan.addresses : c.sourceAddresses,
    payloadTemplate: c.payloadTemplate,
    logEveryMessage: c.logEveryMessage,
    stages: c.stages,
    durationSec: c.durationSec ?? 0, // unset = until stopped; the embedded target bounds it (src/lab/target.ts)
    drainTimeoutMs: c.drainTimeoutMs,
    shards: c.shards,
    maxClientsPerProcess: plan ? plan.maxPerProcess : c.maxClientsPerProcess || DEFAULT_MAX_PER_PROCESS,
    instance: c.instance,
    disabledDevicesFile: c.disabledDevicesFile,
    collapseShare: c.collapseShare,
    collapseWindowSec: c.collapseWindowSec,
    dataDir: c.dataDir,
    workloads: c.workloads,
    httpUrl: c.httpUrl ?? c.tbUrl,
    httpConnections: c.httpConnections,
    ...roundTripConfig(c),
  };
}

class Run extends EventEmitter implements RunHandle {
  readonly runId: string;
  readonly reportPath: string | null;
  readonly started: Promise<void>;
  readonly done: Promise<RunReport>;
  private readonly engine: EngineHandle;
  private readonly sinks: readonly RunSink[];
  private readonly files: ReportFiles | null;
  private readonly config: Record<string, unknown>;
  private last: MetricsSnapshot | null = null;
  private readonly checkpointTimer: NodeJS.Timeout;

  constructor(private readonly opts: RunOptions) {
    super();
    // a gateway's child run as a plain device would connect with its gateway's token: refuse the mistake
    if (opts.fleet.some((d) => d.gateway && d.workload !== 'gateway'))
      throw new Error('startRun: a fleet with gateway children needs its workloads assigned (assignWorkloads)');
    this.sinks = opts.sinks ?? [];
    this.config = redactConfig(opts.config);
    const host = opts.host ?? readHostFacts();
    const plan = connectionPlan(opts.config, host, opts.fleet);
    this.engine = startEngine({
      config: engineConfig(opts.config, plan),
      fleet: opts.fleet,
      restUrl: opts.restUrl === undefined ? opts.config.tbUrl : opts.restUrl,
      ...(opts.fleetSize !== undefined ? { fleetSize: opts.fleetSize } : {}),
      ...(opts.runId ? { runId: opts.runId } : {}),
      writeFiles: opts.writeFiles !== false,
      ...(opts.shardExecArgv ? { shardExecArgv: opts.shardExecArgv } : {}),
      ...(opts.tickMs ? { tickMs: opts.tickMs } : {}),
    });
    this.runId = this.engine.runId;
    this.files = opts.writeFiles === false ? null : new ReportFiles(opts.config.dataDir, this.runId);
    this.reportPath = this.files?.reportPath ?? null;
    this.engine.on('log', (l) => this.log(l));
    // after the engine's own run line (next tick as well): what was planned rather than configured
    if (plan.addressesPlanned || plan.maxPerProcessFrom === 'open files' || plan.endpoints.length > 1)
      process.nextTick(() => this.log(`plan: ${describePlan(plan, host)}`));
    this.engine.on('snapshot', (s) => this.onSnapshot(s));
    this.engine.on('events', (batch) => this.each((sink) => sink.events?.(batch)));
    // every 5 s, less often for big fleets (the checkpoint carries every device's record)
    this.checkpointTimer = setInterval(() => this.checkpoint(), checkpointIntervalMs(opts.fleet.length));
    // the rpc and attributes workloads call REST as the tenant: the shards get the token (never logged)
    const feed = usesRest(opts.config)
      ? feedRestToken(
          opts.config,
          (token) => this.engine.setRestToken(token),
          (l) => this.log(l),
        )
      : null;
    this.done = this.engine.done
      .finally(() => feed?.stop())
      .then((r) => this.finish(r))
      .finally(() => clearInterval(this.checkpointTimer));
    this.started = this.startSinks();
    this.started.catch(() => undefined); // callers that never await `started` still see the run end
  }

  private log(line: string): void {
    this.opts.log?.(line);
    this.emit('log', line);
    this.each((sink) => sink.log?.(line), false);
  }

  /** Calls every sink; a sink that throws is reported (not to sinks, when `report` is false) and the others go on. */
  private each(call: (sink: RunSink) => void, report = true): void {
    for (const sink of this.sinks) {
      try {
        call(sink);
      } catch (e) {
        if (report) this.log(`${sink.name}: ${describeError(e)}`);
        else this.opts.log?.(`${sink.name}: ${describeError(e)}`);
      }
    }
  }

  private async startSinks(): Promise<void> {
    for (const sink of this.sinks) {
      try {
        await sink.start?.(this);
      } catch (e) {
        this.stop(`the ${sink.name} could not start`);
        await this.done.catch(() => undefined);
        throw e;
      }
    }
  }

  private onSnapshot(engineSnapshot: MetricsSnapshot): void {
    const s = composeLive(engineSnapshot, this.sinks);
    this.last = s;
    this.each((sink) => sink.snapshot?.(s));
    this.emit('snapshot', s);
  }

  private checkpoint(): void {
    if (!this.files) return;
    try {
      const interim = this.engine.interim();
      if (!interim) return;
      // the totals of the engine's checkpoint (the sums of the device records it carries), the rest live
      const f = interim.results.final;
      const report = buildReport(interim.results, { config: this.config, metrics: this.last ? { ...this.last, traffic: f.traffic } : f });
      this.files.writeCheckpoint(report, interim.devicesJson);
    } catch (e) {
      this.engine.note(`checkpoint not written: ${describeError(e)}`);
    }
  }

  /** end (each sink from the results) → report → judge (each sink from that report) → final report. */
  private async finish(results: RunResults): Promise<RunReport> {
    clearInterval(this.checkpointTimer);
    const metrics = composeLive(results.final, this.sinks);
    const ask = (phase: 'end' | 'judge', call: (s: RunSink) => unknown) =>
      Promise.all(
        this.sinks
          .filter((s) => s[phase])
          .map(async (s): Promise<OwnedSections> => {
            try {
              return { owner: s.name, sections: (await call(s)) as OwnedSections['sections'] };
            } catch (e) {
              this.log(`${s.name} failed: ${describeError(e)}`); // the report is written whatever happens in a sink
              return { owner: s.name, sections: {} };
            }
          }),
      );
    const ended = await ask('end', (s) => s.end!(results));
    const draft = buildReport(results, { config: this.config, metrics }, mergeSections(ended));
    const judged = await ask('judge', (s) => s.judge!(draft));
    const report = buildReport(results, { config: this.config, metrics }, mergeSections([...ended, ...judged]));
    this.files?.writeReport(report);
    const t = report.metrics.traffic;
    const where = this.reportPath ? ` → ${this.reportPath}` : '';
    this.log(`run ${this.runId} ${report.outcome}: sent ${t.sent}, acked ${t.acked}, failed ${t.failed}${where}`);
    for (const line of roundTripLines(report.metrics.workloads)) this.log(`  ${line}`);
    for (const sink of this.sinks) {
      try {
        await sink.finished?.(report);
      } catch (e) {
        this.log(`${sink.name}: ${describeError(e)}`);
      }
    }
    return report;
  }

  stop(reason: string): void {
    this.engine.stop(reason);
  }

  latest(): MetricsSnapshot | null {
    return this.last;
  }

  [Symbol.asyncIterator](): AsyncIterator<MetricsSnapshot> {
    const ac = new AbortController();
    void this.done.finally(() => setImmediate(() => ac.abort())).catch(() => undefined);
    const it = on(this, 'snapshot', { signal: ac.signal }) as AsyncIterableIterator<[MetricsSnapshot]>;
    return {
      next: async () => {
        try {
          const r = await it.next();
          return r.done ? { done: true, value: undefined } : { done: false, value: r.value[0] };
        } catch (e) {
          if ((e as Error).name === 'AbortError') return { done: true, value: undefined };
          throw e;
        }
      },
      return: async () => {
        ac.abort();
        return { done: true, value: undefined };
      },
    };
  }
}

/** Starts a run: shards are forked at once; the handle emits a composed snapshot every second. */
export function startRun(opts: RunOptions): RunHandle {
  return new Run(opts);
}
