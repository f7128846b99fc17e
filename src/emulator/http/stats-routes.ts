// ThingsBoard's own statistics over REST, in its shapes: QUEUE_STATS entities (QueueStatsController),
// their latest values and the tenant's API_USAGE_STATE through POST /api/entitiesQuery/find
// (EntityQueryController), API usage time series (TelemetryController, AccessValidator), system info
// for a sysadmin (AdminController.getSystemInfo, @PreAuthorize SYS_ADMIN) and, opt-in, /actuator/prometheus.
// Registered outside the tenant-only /api plugin because a sysadmin may call some of these.
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { statfsSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, NULL_UUID } from '../model.js';
import type { HttpContext } from './context.js';
import { jsonBody } from './context.js';
import { page, type PageQuery } from './paging.js';
import { QUEUE_KEYS, type ServerStats } from '../server-stats.js';

const DENIED = "You don't have permission to perform this operation!";

/** The host as OSHI reports it to SystemUtil: percentages and byte totals. */
function systemData(serviceId: string) {
  // host-wide like OSHI's CPU load: the 1-minute load average per core, capped at 100 %
  const load = cpus().length > 0 ? Math.min(100, (loadavg()[0] / cpus().length) * 100) : 0;
  let disc = { usage: 0, total: 0 };
  try {
    const f = statfsSync('/');
    disc = { usage: Math.round(((f.blocks - f.bfree) / f.blocks) * 100), total: f.blocks * f.bsize };
  } catch {
    // no statfs: report zero like an unreadable disk
  }
  return {
    serviceId,
    serviceType: 'MONOLITH',
    cpuUsage: Math.round(load),
    cpuCount: cpus().length,
    memoryUsage: Math.round(((totalmem() - freemem()) / totalmem()) * 100),
    totalMemory: totalmem(),
    discUsage: disc.usage,
    totalDiscSpace: disc.total,
  };
}

export function statsRoutes(app: FastifyInstance, ctx: HttpContext, stats: ServerStats, connections: () => number): void {
  const tenantId = ctx.store.registry.tenantId;
  const who = async (req: FastifyRequest): Promise<'TENANT_ADMIN' | 'SYS_ADMIN'> => {
    const h = req.headers['x-authorization'] ?? req.headers.authorization;
    const v = Array.isArray(h) ? h[0] : h;
    if (!v) throw new ApiError(401, 10, 'Authentication failed');
    const claims = await ctx.auth.verify(v.slice(7));
    if (ctx.restLimit.bucket && !ctx.restLimit.bucket.tryConsume(1)) {
      ctx.events.emit('rateLimited', { scope: 'rest' });
      throw new ApiError(429, 33, 'Too many requests for current tenant!');
    }
    if (claims.scopes?.includes('SYS_ADMIN')) return 'SYS_ADMIN';
    if (claims.scopes?.includes('TENANT_ADMIN')) return 'TENANT_ADMIN';
    throw new ApiError(401, 10, 'Invalid username or password');
  };
  const entity = () => ({
    id: { entityType: 'QUEUE_STATS', id: stats.queueStatsId },
    createdTime: stats.queueStatsCreated,
    tenantId: { entityType: 'TENANT', id: tenantId },
    queueName: stats.queueName,
    serviceId: stats.serviceId,
  });
  // a sysadmin sees the system tenant's queue stats: the emulator has none (its queue is the tenant's)
  const visible = (role: string) => (role === 'TENANT_ADMIN' ? [entity()] : []);

  app.get<{ Querystring: PageQuery & { queueStatsIds?: string } }>('/api/queueStats', async (req) => {
    const role = await who(req);
    if (req.query.queueStatsIds !== undefined) return visible(role).filter((e) => req.query.queueStatsIds!.split(',').includes(e.id.id));
    return page(
      visible(role),
      req.query,
      (e) => [e.queueName],
      { createdTime: (e) => e.createdTime },
      (e) => e.createdTime,
    );
  });
  app.get<{ Querystring: { queueStatsIds?: string } }>('/api/queueStats/list', async (req) => {
    const role = await who(req);
    return visible(role).filter((e) => (req.query.queueStatsIds ?? '').split(',').includes(e.id.id));
  });
  app.get<{ Params: { id: string } }>('/api/queueStats/:id', async (req) => {
    const e = visible(await who(req)).find((x) => x.id.id === req.params.id);
    if (!e) throw new ApiError(404, 32, "Requested item wasn't found!");
    return e;
  });

  // Only the two filters a stats reader needs; values are strings in EntityData's TsValue.
  app.post('/api/entitiesQuery/find', async (req) => {
    const role = await who(req);
    const q = jsonBody(req.body);
    const f = (q.entityFilter ?? {}) as Record<string, unknown>;
    const keys = Array.isArray(q.latestValues) ? (q.latestValues as Array<{ type?: string; key?: string }>) : [];
    const tsKeys = keys.filter((k) => k.type === 'TIME_SERIES' && typeof k.key === 'string').map((k) => k.key!);
    const row = (entityType: string, id: string, values: Record<string, { ts: number; value: number }>) => {
      const ts: Record<string, { ts: number; value: string }> = {};
      for (const k of tsKeys) ts[k] = values[k] ? { ts: values[k].ts, value: String(values[k].value) } : { ts: 0, value: '' };
      return { entityId: { entityType, id }, readAttrs: false, readTs: true, latest: { TIME_SERIES: ts }, timeseries: {}, aggLatest: {} };
    };
    let data: unknown[];
    if (f.type === 'apiUsageState') {
      const usage = stats.latestUsage();
      if (role === 'SYS_ADMIN') {
        const sys = systemData(stats.serviceId);
        const now = stats.clock();
        for (const k of ['cpuUsage', 'memoryUsage', 'discUsage', 'cpuCount', 'totalMemory', 'totalDiscSpace'] as const)
          usage[k] = { ts: now, value: sys[k] };
      }
      data = [row('API_USAGE_STATE', role === 'SYS_ADMIN' ? NULL_UUID : stats.apiUsageStateId, usage)];
    } else if (f.type === 'entityType' && f.entityType === 'QUEUE_STATS') {
      const latest = stats.latestQueue();
      const values: Record<string, { ts: number; value: number }> = {};
      if (latest) for (const k of QUEUE_KEYS) values[k] = { ts: latest.ts, value: latest.values[k] };
      data = visible(role).map((e) => row('QUEUE_STATS', e.id.id, values));
    } else {
      throw new ApiError(
        400,
        31,
        `The emulator answers entity-data queries only for apiUsageState and QUEUE_STATS filters, not ${JSON.stringify(f.type)}`,
      );
    }
    return { data, totalPages: 1, totalElements: data.length, hasNext: false };
  });

  // TelemetryController → AccessValidator.validateApiUsageState: tenant administrators only
  app.get<{ Params: { id: string }; Querystring: { keys?: string; useStrictDataTypes?: string } }>(
    '/api/plugins/telemetry/API_USAGE_STATE/:id/values/timeseries',
    async (req) => {
      if ((await who(req)) !== 'TENANT_ADMIN') throw new ApiError(403, 20, DENIED);
      if (req.params.id !== stats.apiUsageStateId) throw new ApiError(404, 32, "Requested item wasn't found!");
      const usage = stats.latestUsage();
      const strict = req.query.useStrictDataTypes === 'true';
      const out: Record<string, Array<{ ts: number; value: string | number }>> = {};
      const keys = req.query.keys ? req.query.keys.split(',') : Object.keys(usage);
      for (const k of keys) if (usage[k]) out[k] = [{ ts: usage[k].ts, value: strict ? usage[k].value : String(usage[k].value) }];
      return out;
    },
  );
  // AccessValidator has no QUEUE_STATS case: its default answers "Not Implemented!" as an internal error
  app.get('/api/plugins/telemetry/QUEUE_STATS/:id/values/timeseries', async (req) => {
    await who(req);
    throw new ApiError(500, 2, 'Not Implemented!');
  });

  app.get('/api/admin/systemInfo', async (req) => {
    if ((await who(req)) !== 'SYS_ADMIN') throw new ApiError(403, 20, DENIED);
    return { monolith: true, systemData: [systemData(stats.serviceId)] };
  });

  // Spring actuator outside /api/**: no authentication (ThingsboardSecurityConfiguration permits it)
  if (stats.opts.prometheus) {
    app.get('/actuator/prometheus', async (_req, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(stats.prometheusText(connections())),
    );
  }
}
