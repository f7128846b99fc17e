// ThingsBoard's statistics about itself, fed by what the emulator really processed:
// - rule-engine queue stats: one QUEUE_STATS entity (queue Main), a point of per-window deltas every
//   `intervalSec`, written only when the window saw messages (DefaultRuleEngineStatisticsService);
// - the tenant's API_USAGE_STATE counters (cycle and hourly totals, refreshed each interval, like the
//   usage reports of DefaultTbApiUsageStateService);
// - Prometheus counters named as ThingsBoard's Micrometer registry names them (monotonic, live).
// Outcome of a message in the rule engine (TbRuleEngineConsumerStats.log on queue Main, SKIP_ALL_FAILURES):
// stored within the pack timeout → successfulMsgs; processing longer than the timeout → timeoutMsgs;
// dropped by the ingest-loss fault → failedMsgs (a failed save ends in tellFailure) and no storage points.
import { randomUUID } from 'node:crypto';
import type { Device } from './model.js';
import type { Store } from './store.js';
import type { Ingest } from './ingest.js';
import type { Faults } from './faults.js';
import type { TelemetryRow } from './payload.js';
import type { EmulatorEvents } from './events.js';

export interface ServerStatsOptions {
  /** Queue-stats window and usage report interval, s (ThingsBoard: 60). */
  intervalSec: number;
  /** Pack processing timeout of queue Main, ms (ThingsBoard's default queue: 2000). */
  packTimeoutMs: number;
  /** Serve /actuator/prometheus (ThingsBoard: METRICS_ENABLED plus the exposure setting). */
  prometheus: boolean;
}

export const DEFAULT_SERVER_STATS: ServerStatsOptions = { intervalSec: 60, packTimeoutMs: 2000, prometheus: false };

export const QUEUE_KEYS = ['totalMsgs', 'successfulMsgs', 'failedMsgs', 'timeoutMsgs', 'tmpFailed', 'tmpTimeout'] as const;
export type QueueKey = (typeof QUEUE_KEYS)[number];
export const USAGE_KEYS = [
  'transportMsgCount',
  'transportDataPointsCount',
  'ruleEngineExecutionCount',
  'storageDataPointsCount',
  'jsExecutionCount',
  'tbelExecutionCount',
] as const;
export type UsageKey = (typeof USAGE_KEYS)[number];

export interface TsPoint {
  ts: number;
  value: number;
}

type Outcome = 'successfulMsgs' | 'timeoutMsgs' | 'failedMsgs';
const HISTORY_LIMIT = 10_000;

export class ServerStats {
  readonly serviceId = 'tb-emulator';
  readonly queueName = 'Main';
  readonly queueStatsId = randomUUID();
  readonly queueStatsCreated: number;
  readonly apiUsageStateId = randomUUID();
  /** Stored queue-stats points (per-window deltas), oldest first. */
  readonly queueHistory: Array<{ ts: number; values: Record<QueueKey, number> }> = [];
  /** Live monotonic counters (what Micrometer would export). */
  readonly counters = {
    transportMsgs: 0,
    transportPoints: 0,
    ruleEngine: { totalMsgs: 0, successfulMsgs: 0, failedMsgs: 0, timeoutMsgs: 0, tmpFailed: 0, tmpTimeout: 0 },
    storeFailed: 0,
  };
  private window = ServerStats.zero();
  /** Rule-engine results still in flight: counted into the window in which they finish. */
  private pending: Array<{ at: number; outcome: Outcome }> = [];
  /** Usage totals as last reported (the latest time series of API_USAGE_STATE), and when. */
  private reported: { ts: number; values: Record<UsageKey, number>; hourly: Record<UsageKey, number> } | null = null;
  private hourStart = { hour: -1, base: ServerStats.usageZero() };
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    ingest: Ingest,
    private readonly faults: Faults,
    readonly opts: ServerStatsOptions,
    events: EmulatorEvents,
    /** The emulator's wall clock (injectable in tests), ms. */
    readonly clock: () => number = Date.now,
  ) {
    this.queueStatsCreated = clock();
    // Observe every accepted telemetry message (after the transport rate limits) without changing the path.
    const inner = ingest.telemetry.bind(ingest);
    ingest.telemetry = (d: Device, rows: TelemetryRow[], now: number) => {
      const dropped = store.totals.ingestDropped;
      const delay = faults.processingDelayMs;
      inner(d, rows, now);
      this.accepted(rows, now, store.totals.ingestDropped > dropped, delay);
    };
    // device attribute posts are transport messages too, handled by the rule engine (POST_ATTRIBUTES_REQUEST)
    events.on('attributes', (e) => {
      if (e.scope !== 'CLIENT_SCOPE') return;
      this.counters.transportMsgs++;
      this.counters.transportPoints += Object.values(e.values).filter((v) => v !== null).length;
      this.finish('successfulMsgs');
    });
  }

  private static zero(): Record<QueueKey, number> {
    return { totalMsgs: 0, successfulMsgs: 0, failedMsgs: 0, timeoutMsgs: 0, tmpFailed: 0, tmpTimeout: 0 };
  }

  private static usageZero(): Record<UsageKey, number> {
    return {
      transportMsgCount: 0,
      transportDataPointsCount: 0,
      ruleEngineExecutionCount: 0,
      storageDataPointsCount: 0,
      jsExecutionCount: 0,
      tbelExecutionCount: 0,
    };
  }

  private accepted(rows: TelemetryRow[], now: number, dropped: boolean, delayMs: number): void {
    this.counters.transportMsgs++;
    let points = 0;
    for (const r of rows) for (const k in r.values) if (r.values[k] !== null) points++;
    this.counters.transportPoints += points;
    if (dropped) {
      this.counters.storeFailed++;
      this.finish('failedMsgs');
    } else if (delayMs >= this.opts.packTimeoutMs) this.pending.push({ at: now + this.opts.packTimeoutMs, outcome: 'timeoutMsgs' });
    else if (delayMs > 0) this.pending.push({ at: now + delayMs, outcome: 'successfulMsgs' });
    else this.finish('successfulMsgs');
  }

  private finish(outcome: Outcome): void {
    this.window.totalMsgs++;
    this.window[outcome]++;
    this.counters.ruleEngine.totalMsgs++;
    this.counters.ruleEngine[outcome]++;
  }

  /** Moves in-flight results whose time has come into the counters. */
  private settle(now: number): void {
    if (this.pending.length === 0) return;
    const keep: typeof this.pending = [];
    for (const p of this.pending)
      if (p.at <= now) this.finish(p.outcome);
      else keep.push(p);
    this.pending = keep;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(this.clock()), this.opts.intervalSec * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One stats cycle: persist the window (if it saw messages), reset it, report usage. */
  tick(now: number): void {
    this.settle(now);
    if (this.window.totalMsgs > 0) {
      this.queueHistory.push({ ts: now, values: this.window });
      if (this.queueHistory.length > HISTORY_LIMIT) this.queueHistory.splice(0, HISTORY_LIMIT / 2);
    }
    this.window = ServerStats.zero();
    const values = this.usageNow();
    const hour = Math.floor(now / 3_600_000);
    if (hour !== this.hourStart.hour) this.hourStart = { hour, base: this.reported?.values ?? ServerStats.usageZero() };
    const hourly = ServerStats.usageZero();
    for (const k of USAGE_KEYS) hourly[k] = values[k] - this.hourStart.base[k];
    this.reported = { ts: now, values, hourly };
  }

  private usageNow(): Record<UsageKey, number> {
    const re = this.counters.ruleEngine;
    return {
      transportMsgCount: this.counters.transportMsgs,
      transportDataPointsCount: this.counters.transportPoints,
      // one rule-node execution per processed message: the emulator's rule chain is a single save node
      ruleEngineExecutionCount: re.successfulMsgs + re.failedMsgs + re.timeoutMsgs,
      storageDataPointsCount: this.store.totals.dataPoints,
      jsExecutionCount: 0,
      tbelExecutionCount: 0,
    };
  }

  /** Latest queue-stats values, as the entity-data query returns them (null before the first window). */
  latestQueue(): { ts: number; values: Record<QueueKey, number> } | null {
    return this.queueHistory.at(-1) ?? null;
  }

  /** Latest API usage time series: cycle keys stamped at the month's start, hourly keys at the hour's start. */
  latestUsage(): Record<string, TsPoint> {
    const r = this.reported;
    if (!r) return {};
    const d = new Date(r.ts);
    const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const hourStart = Math.floor(r.ts / 3_600_000) * 3_600_000;
    const out: Record<string, TsPoint> = {};
    for (const k of USAGE_KEYS) {
      out[k] = { ts: monthStart, value: r.values[k] };
      out[`${k}Hourly`] = { ts: hourStart, value: r.hourly[k] };
    }
    return out;
  }

  /** The Prometheus exposition text, with ThingsBoard's metric names (DefaultStatsFactory, StatsType). */
  prometheusText(connectionsActive: number): string {
    this.settle(this.clock());
    const lines: string[] = [];
    const counter = (name: string, help: string, series: Array<[Record<string, string>, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of series) {
        // Micrometer's Prometheus output ends the label list with a comma
        const l = Object.entries(labels)
          .map(([k, x]) => `${k}="${x}",`)
          .join('');
        lines.push(`${name}{${l}} ${v.toFixed(1)}`);
      }
    };
    const re = this.counters.ruleEngine;
    const reKeys = [...QUEUE_KEYS, 'successfulIterations', 'failedIterations'] as const;
    counter(
      'ruleEngine_Main_total',
      '',
      reKeys.map((k) => [{ statsName: k, tenantId: 'system' }, k in re ? re[k as QueueKey] : 0]),
    );
    const produced = this.counters.transportMsgs;
    counter('ruleEngine_producer_total', '', [
      [{ statsName: 'totalMsgs' }, produced],
      [{ statsName: 'successfulMsgs' }, produced],
      [{ statsName: 'failedMsgs' }, 0],
    ]);
    const saved = this.store.totals.messages;
    const failed = this.counters.storeFailed;
    counter('ts_queue_0_total', '', [
      [{ statsName: 'totalMsgs' }, saved + failed],
      [{ statsName: 'successfulMsgs' }, saved],
      [{ statsName: 'failedMsgs' }, failed],
    ]);
    lines.push('# HELP thingsboard_transport_connections_active  ', '# TYPE thingsboard_transport_connections_active gauge');
    lines.push(`thingsboard_transport_connections_active{protocol="MQTT",} ${connectionsActive.toFixed(1)}`);
    return lines.join('\n') + '\n';
  }
}
