// The server-stats collector as a run sink (src/lab/pipeline/sink.ts): it starts with the run, reads
// each composed snapshot, and at `judge` (after the delivery check, whose rate-limit attribution and
// stored count the verdict uses) returns the report's `server` section.
import type { RunSink } from './pipeline/sink.js';
import type { ReportSections } from '../report/build.js';
import type { RunReport } from '../report/schema.js';
import { ServerStatsSink, type ServerSection, type ServerStatsSinkOptions, type SinkEndInput } from './server-stats-sink.js';

export interface ServerStatsRunSink extends RunSink {
  /** The section once judged (null before). */
  section(): ServerSection | null;
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

export function serverStatsRunSink(opts: ServerStatsSinkOptions): ServerStatsRunSink {
  const sink = new ServerStatsSink(opts);
  let section: ServerSection | null = null;
  return {
    name: 'server statistics',
    start() {
      sink.start();
    },
    snapshot(s) {
      sink.onSnapshot(s);
    },
    async judge(report) {
      section = await sink.end(deliveryInput(report));
      // ReportSections has no `server` key until the report is wired for it (docs/server-stats.md)
      return { server: section } as unknown as ReportSections;
    },
    finished() {
      sink.stop();
    },
    section: () => section,
  };
}
