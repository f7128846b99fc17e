// GET /api/metrics (the versioned snapshot contract) and GET /api/info (what the page needs to
// know about this server: live run or stored report, push period, whether the run has ended).
import type { FastifyPluginAsync } from 'fastify';
import type { SnapshotHub } from './hub.js';

export interface ApiOptions {
  hub: SnapshotHub;
  refreshMs: number;
  /** `live` while a run feeds the server; `report` for `tblab report --serve`. */
  mode: 'live' | 'report';
  /** Shown before the first snapshot arrives. */
  runId: string;
  instance: string | null;
}

export const apiPlugin: FastifyPluginAsync<ApiOptions> = async (app, { hub, refreshMs, mode, runId, instance }) => {
  app.get('/api/metrics', async (_req, reply) => {
    const snap = hub.latest;
    reply.header('cache-control', 'no-store');
    if (!snap) {
      reply.code(503).header('retry-after', Math.ceil(refreshMs / 1000));
      return { status: 503, message: 'No metrics yet: the run is starting', timestamp: Date.now() };
    }
    return snap;
  });

  app.get('/api/info', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    const snap = hub.latest;
    return { mode, refreshMs, runId: snap?.runId ?? runId, instance: snap?.instance ?? instance, final: hub.final };
  });
};
