// The server-stats collector as a run sink (src/lab/pipeline/sink.ts): it starts with the run, reads
// each composed snapshot, shows what it has read so far as the live `server` section (the dashboard's
// ThingsBoard card), and at `judge` (after the delivery check, whose rate-limit attribution and
// stored count the verdict uses) returns the report's `server` section.
import type { RunSink } from './pipeline/sink.js';
import type { RunReport } from '../report/schema.js';
import type { ResolvedConfig } from '../config/index.js';
import { clientFromConfig } from '../thingsboard/client.js';
import { serverSummary } from '../report/server-summary.js';
import { ServerStatsSink, type ServerSection, type ServerStatsSinkOptions, type SinkEndInput } from './server-stats-sink.js';

/** The stats window of an embedded emulator, s: short, so a run of seconds still sees whole windows. */
export const EMBEDDED_STATS_WINDOW_SEC = 5;
/** `tblab emulator` flags for the embedded emulator's statistics sources. */
export const EMBEDDED_STATS_ARGS = ['--stats-interval', String(EMBEDDED_STATS_WINDOW_SEC), '--prometheus'];

export interface ServerStatsRunSink extends RunSink {
  /** The section once judged (null before). */
  section(): ServerSection | null;
  /** Stops polling and closes its REST client (idempotent). */
  close(): Promise<void>;
}

/** What the verdict takes from the report's delivery check (null when it did not run). */
export function deliveryInput(report: Readonly<RunReport>): SinkEndInput {
  const d = report.delivery;
  if (!d) return { delivery: null, rateLimit: null };
  const rl = d.rateLimit;
  return {
    delivery: { acked: d.totals.acked, stored: d.totals.stored },
    rateLimit: rl ? { count: rl.count ?? rl.events.length, firstAt: rl.firstAt, pattern: rl.pattern } : null,
  };
}

export function serverStatsRunSink(
  opts: ServerStatsSinkOptions,
  onClose: () => Promise<void> = async () => {},
  say: (line: string) => void = () => {},
): ServerStatsRunSink {
  const sink = new ServerStatsSink(opts);
  let section: ServerSection | null = null;
  let started = false;
  // the settle runs from the engine's end, alongside the delivery check's own settle
  let endedAt: number | undefined;
  return {
    name: 'server statistics',
    start() {
      sink.start();
      started = true;
    },
    live: () => ({ server: started ? sink.live() : null }),
    snapshot(s) {
      sink.onSnapshot(s);
    },
    end() {
      endedAt = Date.now();
      return {};
    },
    async judge(report) {
      section = await sink.end(deliveryInput(report), endedAt);
      for (const l of serverSummary(section)) say(`ThingsBoard ${l}`);
      return { server: section };
    },
    finished() {
      sink.stop();
    },
    section: () => section,
    async close() {
      sink.stop();
      await onClose();
    },
  };
}

/**
 * The sink of a `tblab run` (null when SERVER_STATS=0): the lab's tenant login, TB_METRICS_URL, and
 * the poll and settle times. With an embedded emulator the windows are EMBEDDED_STATS_WINDOW_SEC, so it
 * polls every second and settles one window + 2 s unless SERVER_STATS_SETTLE_SEC says otherwise.
 */
export function serverStatsForRun(
  config: ResolvedConfig,
  o: {
    embedded: boolean;
    say?: (line: string) => void;
    /** The embedded emulator's --stats-interval, s (default EMBEDDED_STATS_WINDOW_SEC). */
    windowSec?: number;
  },
): ServerStatsRunSink | null {
  if (!config.serverStats) return null;
  const client = clientFromConfig({ ...config, restRetries: 0 });
  const pollMs = o.embedded ? 1000 : config.serverStatsPollSec * 1000;
  const window = o.windowSec ?? EMBEDDED_STATS_WINDOW_SEC;
  const settleSec = config.serverStatsSettleSec ?? (o.embedded ? window + 2 : 0);
  return serverStatsRunSink(
    {
      client,
      metricsUrl: config.tbMetricsUrl ?? null,
      queuePollMs: pollMs,
      usagePollMs: pollMs,
      systemPollMs: Math.max(pollMs, o.embedded ? 5000 : 60_000),
      prometheusPollMs: Math.max(pollMs, o.embedded ? 2000 : 15_000),
      ...(o.embedded ? { queueWindowSec: window } : {}),
      settleMs: settleSec * 1000,
    },
    () => client.close(),
    o.say,
  );
}
