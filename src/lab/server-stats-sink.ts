// A run sink (start / each snapshot / end) that reads ThingsBoard's statistics about itself on their
// own intervals and returns the report's `server` section: every series with its source and window,
// what was not visible and why, and the triage verdict (src/metrics/triage.ts).
// Queue stats stay ThingsBoard's windows (one point per window it wrote, stamped with its own time);
// API usage counters are cycle totals, so they are polled and differenced; nothing is interpolated.
import type { TbClient } from '../thingsboard/client.js';
import { ServerStatsReader, readPrometheus, QUEUE_STAT_KEYS, USAGE_KEYS, type Read } from '../thingsboard/server-stats.js';
import { shownUrl, sumOf, type Exposition } from '../thingsboard/prometheus.js';
import type { MetricsSnapshot } from '../metrics/snapshot.js';
import { triage, type Series, type ServerSection, type TriageInput } from '../metrics/triage.js';

export type { ServerSection } from '../metrics/triage.js';

export interface ServerStatsSinkOptions {
  /** The lab's REST client (null = REST signals not visible). */
  client: TbClient | null;
  /** TB_METRICS_URL: a Prometheus endpoint (`/actuator/prometheus`), or null. */
  metricsUrl?: string | null;
  /** Poll intervals, ms: queue stats and usage (default 10000), system info (60000), Prometheus (15000). */
  queuePollMs?: number;
  usagePollMs?: number;
  systemPollMs?: number;
  prometheusPollMs?: number;
  /** ThingsBoard's queue-stats window when fewer than two windows were seen, s (default 60). */
  queueWindowSec?: number;
  /** At end(), keep polling this long so ThingsBoard's last window is read, ms (default 0). */
  settleMs?: number;
}

/** What the delivery check found, when it ran (report.delivery). */
export interface SinkEndInput {
  delivery?: { acked: number; stored: number } | null;
  rateLimit?: { count: number; firstAt: number | null; pattern: string | null } | null;
}

const QUEUE_SOURCE = 'GET /api/queueStats + POST /api/entitiesQuery/find (QUEUE_STATS latest)';
const USAGE_SOURCE = 'POST /api/entitiesQuery/find (API_USAGE_STATE latest, polled and differenced)';

export class ServerStatsSink {
  private readonly reader: ServerStatsReader | null;
  private readonly series = new Map<string, Series>();
  private readonly notVisible = new Map<string, string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private startedAt = 0;
  private lastQueueTs = new Map<string, number>();
  private usagePrev: { t: number; values: Record<string, number> } | null = null;
  private usageChanges: number[] = [];
  private promPrev: { t: number; failed: number } | null = null;
  private labPrev: { t: number; sent: number } | null = null;

  constructor(private readonly opts: ServerStatsSinkOptions) {
    this.reader = opts.client ? new ServerStatsReader(opts.client) : null;
  }

  start(): void {
    this.startedAt = Date.now();
    if (!this.reader) this.notVisible.set('rest', 'REST statistics: no ThingsBoard REST client for this run');
    const every = (ms: number, fn: () => Promise<void>) => {
      const run = () => {
        const p = fn().catch((e) => void this.notVisible.set(`internal:${fn.name}`, `server statistics reader failed: ${String(e)}`));
        this.inflight.add(p);
        void p.finally(() => this.inflight.delete(p));
      };
      run();
      const t = setInterval(run, ms);
      t.unref();
      this.timers.push(t);
    };
    if (this.reader) {
      every(this.opts.queuePollMs ?? 10_000, () => this.pollQueue());
      every(this.opts.usagePollMs ?? 10_000, () => this.pollUsage());
      every(this.opts.systemPollMs ?? 60_000, () => this.pollSystem());
    }
    if (this.opts.metricsUrl) every(this.opts.prometheusPollMs ?? 15_000, () => this.pollPrometheus());
    else
      this.notVisible.set(
        'prometheus',
        'Prometheus metrics: TB_METRICS_URL is not set (ThingsBoard serves them with METRICS_ENABLED=true)',
      );
  }

  /** Records the lab's own series from a metrics snapshot: messages sent per snapshot interval, PUBACK p99. */
  onSnapshot(s: MetricsSnapshot): void {
    const t = Date.parse(s.at);
    if (!Number.isFinite(t)) return;
    if (this.labPrev && t > this.labPrev.t) {
      const windowSec = Math.max(1, Math.round((t - this.labPrev.t) / 1000));
      this.push(
        { name: 'lab.sent', source: 'lab (MQTT publishes written)', windowSec, kind: 'count' },
        t,
        s.traffic.sent - this.labPrev.sent,
      );
    }
    this.labPrev = { t, sent: s.traffic.sent };
    const ack = s.series.at(-1)?.ackP99Ms;
    if (typeof ack === 'number')
      this.push({ name: 'lab.ackP99Ms', source: 'lab (publish → PUBACK, last second)', windowSec: null, kind: 'gauge' }, t, ack);
  }

  /** The live section of the snapshot: the newest `maxPoints` points of each series, what is not visible. */
  live(maxPoints = 60): { series: Series[]; notVisible: string[] } {
    const series = [...this.series.values()].map((s) => ({ ...s, points: s.points.slice(-maxPoints) }));
    return { series, notVisible: [...this.notVisible.values()] };
  }

  /** Stops polling (end() does it too); for a run that fails before its end. */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  /** `settleFrom`: when the load ended (ms); the settle counts from there (default: now). */
  async end(input: SinkEndInput = {}, settleFrom = Date.now()): Promise<ServerSection> {
    const settle = (this.opts.settleMs ?? 0) - (Date.now() - settleFrom);
    if (settle > 0) await new Promise((r) => setTimeout(r, settle));
    this.stop();
    await Promise.allSettled([...this.inflight]);
    if (this.reader) await Promise.allSettled([this.pollQueue(), this.pollUsage()]);
    const series = [...this.series.values()];
    const labSent = this.series.get('lab.sent');
    const ack = this.series.get('lab.ackP99Ms');
    const t: TriageInput = {
      lab: {
        ...(labSent ? { sent: labSent } : {}),
        ...(ack ? { pubackP95Ms: ack } : {}),
        delivery: input.delivery ?? null,
        rateLimit: input.rateLimit ?? null,
      },
      server: series.filter((s) => !s.name.startsWith('lab.')),
    };
    return { series, notVisible: [...this.notVisible.values()], verdict: triage(t) };
  }

  private push(meta: Omit<Series, 'points'>, t: number, v: number): void {
    let s = this.series.get(meta.name);
    if (!s) this.series.set(meta.name, (s = { ...meta, points: [] }));
    s.windowSec = meta.windowSec;
    s.points.push({ t, v });
  }

  private seen<T>(key: string, r: Read<T>): T | null {
    if (r.ok) {
      this.notVisible.delete(key);
      return r.value;
    }
    this.notVisible.set(key, r.why);
    return null;
  }

  private async pollQueue(): Promise<void> {
    const windows = this.seen('queue', await this.reader!.queueStats());
    if (!windows) return;
    for (const w of windows) {
      const id = `${w.queueName}/${w.serviceId}`;
      const prev = this.lastQueueTs.get(id);
      // a window written before the run started belongs to another load
      if (w.ts === 0 || w.ts === prev || w.ts < this.startedAt) continue;
      this.lastQueueTs.set(id, w.ts);
      const known = this.series.get(`queueStats.${w.queueName}.totalMsgs`);
      const gaps = known && known.points.length > 0 ? w.ts - known.points.at(-1)!.t : null;
      const windowSec =
        gaps && gaps > 0 ? Math.round(Math.min(gaps, (known?.windowSec ?? Infinity) * 1000) / 1000) : (this.opts.queueWindowSec ?? 60);
      for (const k of QUEUE_STAT_KEYS) {
        const v = w.values[k];
        if (v !== undefined) this.push({ name: `queueStats.${w.queueName}.${k}`, source: QUEUE_SOURCE, windowSec, kind: 'count' }, w.ts, v);
      }
    }
  }

  private async pollUsage(): Promise<void> {
    const values = this.seen('usage', await this.reader!.apiUsage());
    if (!values) return;
    const now = Date.now();
    const cur = values as Record<string, number>;
    const prev = this.usagePrev;
    if (!prev) {
      // the first read is the baseline (totals since the billing cycle began); no report yet = zero so far
      this.usagePrev = { t: now, values: Object.keys(cur).length > 0 ? cur : Object.fromEntries(USAGE_KEYS.map((k) => [k, 0])) };
      return;
    }
    if (Object.keys(cur).length === 0) {
      this.notVisible.set('usage', 'API usage counters: no usage report yet (ThingsBoard writes them every 60 s)');
      return;
    }
    this.usagePrev = { t: now, values: cur };
    if (USAGE_KEYS.some((k) => (cur[k] ?? 0) !== (prev.values[k] ?? 0))) this.usageChanges.push(now);
    // ThingsBoard's report interval, as seen: the shortest gap between two changes
    const gaps = this.usageChanges.slice(1).map((x, i) => x - this.usageChanges[i]);
    const windowSec = gaps.length > 0 ? Math.max(1, Math.round(Math.min(...gaps) / 1000)) : Math.round((now - prev.t) / 1000);
    for (const k of USAGE_KEYS) {
      if (cur[k] === undefined || prev.values[k] === undefined) continue;
      // a new billing cycle restarts the counter: the delta is then the new value itself
      const d = cur[k] >= prev.values[k] ? cur[k] - prev.values[k] : cur[k];
      this.push({ name: `apiUsage.${k}`, source: USAGE_SOURCE, windowSec, kind: 'count' }, now, d);
    }
  }

  private async pollSystem(): Promise<void> {
    const info = this.seen('system', await this.reader!.systemInfo());
    if (!info) return;
    const now = Date.now();
    const max = (k: 'cpuUsage' | 'memoryUsage') => Math.max(...info.systemData.map((d) => d[k] ?? 0));
    this.push(
      { name: 'system.cpuUsage', source: 'GET /api/admin/systemInfo (host CPU %, busiest service)', windowSec: null, kind: 'gauge' },
      now,
      max('cpuUsage'),
    );
    this.push(
      { name: 'system.memoryUsage', source: 'GET /api/admin/systemInfo (host memory %, busiest service)', windowSec: null, kind: 'gauge' },
      now,
      max('memoryUsage'),
    );
  }

  private async pollPrometheus(): Promise<void> {
    const exp = this.seen('prometheus', await readPrometheus(this.opts.metricsUrl!));
    if (!exp) return;
    const now = Date.now();
    const src = `${shownUrl(this.opts.metricsUrl!)} (Prometheus)`;
    const ts = tsQueues(exp);
    if (ts.found) {
      this.push(
        {
          name: 'prometheus.tsQueueBacklog',
          source: `${src}: Σ ts_queue_*_total added − saved − failed`,
          windowSec: null,
          kind: 'gauge',
        },
        now,
        ts.backlog,
      );
      if (this.promPrev) {
        const windowSec = Math.max(1, Math.round((now - this.promPrev.t) / 1000));
        const name = 'prometheus.tsQueueFailed';
        this.push(
          { name, source: `${src}: Δ Σ ts_queue_*_total{statsName="failedMsgs"}`, windowSec, kind: 'count' },
          now,
          ts.failed - this.promPrev.failed,
        );
      }
      this.promPrev = { t: now, failed: ts.failed };
    } else
      this.notVisible.set('prometheus-ts', 'SQL write queues: no ts_queue_*_total metrics (Cassandra storage, or METRICS_ENABLED=false)');
    const conn = sumOf(exp, 'thingsboard_transport_connections_active');
    if (conn.found)
      this.push(
        {
          name: 'prometheus.transportConnectionsActive',
          source: `${src}: thingsboard_transport_connections_active`,
          windowSec: null,
          kind: 'gauge',
        },
        now,
        conn.value,
      );
  }
}

/** Sums ThingsBoard's SQL time-series write queues (`ts_queue_<i>_total`, TbSqlBlockingQueueWrapper). */
function tsQueues(exp: Exposition): { found: boolean; backlog: number; failed: number } {
  const by: Record<string, number> = { totalMsgs: 0, successfulMsgs: 0, failedMsgs: 0 };
  let found = false;
  for (const s of exp.samples) {
    if (!/^ts_queue_\d+_total$/.test(s.name)) continue;
    found = true;
    const k = s.labels.statsName;
    if (k in by) by[k] += s.value;
  }
  return { found, backlog: by.totalMsgs - by.successfulMsgs - by.failedMsgs, failed: by.failedMsgs };
}
