// buildDashboard(): the live dashboard server (Fastify 5). The supervisor feeds it merged
// snapshots with publish(); it never imports the engine (docs/design.md#data-flow), so it serves any source.
import Fastify, { type FastifyInstance } from 'fastify';
import type { MetricsSnapshot } from '../../metrics/snapshot.js';
import type { RunReport } from '../../report/schema.js';
import { LabError } from '../../common/errors.js';
import { SnapshotHub, type FinalInfo } from './hub.js';
import { apiPlugin } from './api.js';
import { streamPlugin } from './stream.js';
import { prometheusPlugin } from './prometheus.js';
import { controlPlugin } from './control.js';
import { assetsPlugin } from './assets.js';
import { guardHost } from './host-guard.js';

export interface DashboardOptions {
  /** Bind address (METRICS_HOST). Default `127.0.0.1`. */
  host?: string;
  /** Port (METRICS_PORT); 0 = any free port. Default 5050. */
  port?: number;
  /** SSE push period in ms (METRICS_REFRESH_MS). Default 2000. */
  refreshMs?: number;
  /** Run id shown before the first snapshot arrives. */
  runId: string;
  /** `i/N` when this lab is one instance of several, else null. */
  instance?: string | null;
  /** Secret for `POST /api/control/*` (createControlToken()); without it no control route exists. */
  controlToken?: string;
  /** Called once when an authorised stop request arrives; `reason` goes into the report. */
  onStop?: (reason: string) => void;
  /** `report` serves a finished run (tblab report --serve). Default `live`. */
  mode?: 'live' | 'report';
  /** The state of a `tblab limit` search (GET /api/limit; `{ active: false }` without one). */
  limit?: () => unknown;
}

export interface Dashboard {
  /** Latest merged snapshot (the supervisor calls this once per second). */
  publish(snapshot: MetricsSnapshot): void;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:5050`. */
  listen(): Promise<string>;
  /** Marks the run ended: the page keeps showing this final state until close(). */
  setFinal(report?: RunReport): void;
  close(): Promise<void>;
  /** Base URL once listening, else null. */
  readonly url: string | null;
}

export function buildDashboard(opts: DashboardOptions): Dashboard {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 5050;
  const refreshMs = opts.refreshMs ?? 2000;
  const hub = new SnapshotHub();
  const app: FastifyInstance = Fastify({ logger: false });
  guardHost(app, host);

  app.register(apiPlugin, { hub, refreshMs, mode: opts.mode ?? 'live', runId: opts.runId, instance: opts.instance ?? null });
  app.register(streamPlugin, { hub, refreshMs });
  app.register(prometheusPlugin, { hub });
  app.register(assetsPlugin);
  app.get('/api/limit', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return opts.limit?.() ?? { active: false };
  });
  if (opts.controlToken && opts.onStop) {
    app.register(controlPlugin, { token: opts.controlToken, onStop: opts.onStop });
  }

  let url: string | null = null;
  return {
    get url() {
      return url;
    },
    publish: (s) => hub.publish(s),
    setFinal(report) {
      const last = report?.metrics ?? hub.latest;
      const info: FinalInfo = report
        ? { outcome: report.outcome, endReason: report.endReason, endedAt: report.endedAt }
        : { outcome: last?.state ?? 'finished', endReason: '', endedAt: last?.at ?? null };
      hub.setFinal(info, report?.metrics);
    },
    async listen() {
      try {
        await app.listen({ host, port });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE')
          throw new LabError('PORT_IN_USE', { message: `Dashboard port ${host}:${port} is already in use (METRICS_PORT)`, cause: e });
        throw new LabError('CONFIG_INVALID', {
          message: `Cannot listen on ${host}:${port} for the dashboard (METRICS_HOST/METRICS_PORT): ${code ?? String(e)}`,
          cause: e,
        });
      }
      const addr = app.server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      url = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
      return url;
    },
    async close() {
      await app.close();
    },
  };
}
