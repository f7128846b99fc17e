// Reads of ThingsBoard's statistics about itself with the lab's REST client: queue stats
// (GET /api/queueStats lists the QUEUE_STATS entities; their latest window comes from
// POST /api/entitiesQuery/find, as the plain telemetry read is not implemented for that entity type),
// the tenant's API_USAGE_STATE counters (entity-data query, latest values), and system info
// (GET /api/admin/systemInfo, SYS_ADMIN only). Nothing here throws for a missing permission, an
// older server or disabled metrics: each read answers `{ ok: false, why }` instead.
import { LabError, describeError } from '../common/errors.js';
import type { TbClient } from './client.js';
import type { PageData } from './types.js';
import { scrapePrometheus, shownUrl, type Exposition } from './prometheus.js';

export type Read<T> = { ok: true; value: T } | { ok: false; why: string };

export const QUEUE_STAT_KEYS = ['totalMsgs', 'successfulMsgs', 'failedMsgs', 'timeoutMsgs', 'tmpFailed', 'tmpTimeout'] as const;
export const USAGE_KEYS = ['transportMsgCount', 'transportDataPointsCount', 'ruleEngineExecutionCount', 'storageDataPointsCount'] as const;

export interface QueueWindow {
  queueName: string;
  serviceId: string;
  /** Server time the window was written (its end), ms; 0 = never written. */
  ts: number;
  values: Partial<Record<(typeof QUEUE_STAT_KEYS)[number], number>>;
}

export interface SystemInfo {
  monolith: boolean;
  systemData: Array<{
    serviceId: string;
    serviceType: string;
    cpuUsage: number | null;
    memoryUsage: number | null;
    discUsage: number | null;
  }>;
}

interface EntityData {
  entityId: { entityType: string; id: string };
  latest?: { TIME_SERIES?: Record<string, { ts: number; value: string }> };
}

/** Why a failed read leaves a signal invisible, in one line. */
export function whyNotVisible(what: string, e: unknown): string {
  if (e instanceof LabError) {
    const status = (e.details as { status?: number } | undefined)?.status;
    if (e.code === 'PERMISSION_DENIED') return `${what}: ThingsBoard answered 403 to this user (${e.message.replace(/^.*: /, '')})`;
    if (e.code === 'NOT_FOUND' || status === 404) return `${what}: the endpoint is missing on this server (older ThingsBoard?)`;
    if (e.code === 'AUTH_FAILED') return `${what}: the login was refused`;
    return `${what}: ${e.message}`;
  }
  return `${what}: ${describeError(e)}`;
}

async function attempt<T>(what: string, fn: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, why: whyNotVisible(what, e) };
  }
}

const num = (v: { value: string } | undefined): number | undefined => {
  if (!v || v.value === '' || v.value === undefined) return undefined;
  const n = Number(v.value);
  return Number.isFinite(n) ? n : undefined;
};

export class ServerStatsReader {
  constructor(private readonly client: TbClient) {}

  /** The latest window of every visible queue (one per queue and rule-engine service). */
  queueStats(): Promise<Read<QueueWindow[]>> {
    return attempt('rule-engine queue stats', async () => {
      const list = await this.client.get<PageData<{ id: { id: string }; queueName: string; serviceId: string }>>('/api/queueStats', {
        pageSize: 100,
        page: 0,
      });
      if (list.data.length === 0)
        throw new Error('no QUEUE_STATS entities visible to this user (a sysadmin sees only system-tenant queues)');
      const byId = new Map(list.data.map((q) => [q.id.id, q]));
      const found = await this.client.post<PageData<EntityData>>('/api/entitiesQuery/find', {
        entityFilter: { type: 'entityType', entityType: 'QUEUE_STATS' },
        pageLink: { page: 0, pageSize: 100 },
        latestValues: QUEUE_STAT_KEYS.map((key) => ({ type: 'TIME_SERIES', key })),
      });
      return found.data.flatMap((d) => {
        const q = byId.get(d.entityId.id);
        if (!q) return [];
        const ts = d.latest?.TIME_SERIES ?? {};
        const values: QueueWindow['values'] = {};
        let at = 0;
        for (const k of QUEUE_STAT_KEYS) {
          const v = num(ts[k]);
          if (v !== undefined) values[k] = v;
          at = Math.max(at, ts[k]?.ts ?? 0);
        }
        return [{ queueName: q.queueName, serviceId: q.serviceId, ts: at, values }];
      });
    });
  }

  /** The tenant's API usage counters (cycle totals, refreshed by ThingsBoard's usage reports). */
  apiUsage(): Promise<Read<Partial<Record<(typeof USAGE_KEYS)[number], number>>>> {
    return attempt('API usage counters', async () => {
      const found = await this.client.post<PageData<EntityData>>('/api/entitiesQuery/find', {
        entityFilter: { type: 'apiUsageState' },
        pageLink: { page: 0, pageSize: 1 },
        latestValues: USAGE_KEYS.map((key) => ({ type: 'TIME_SERIES', key })),
      });
      const d = found.data[0];
      if (!d) throw new Error('no API_USAGE_STATE entity visible to this user');
      const out: Partial<Record<(typeof USAGE_KEYS)[number], number>> = {};
      for (const k of USAGE_KEYS) {
        const v = num(d.latest?.TIME_SERIES?.[k]);
        if (v !== undefined) out[k] = v;
      }
      // empty until the first usage report (ThingsBoard writes them every 60 s; a new tenant has none)
      return out;
    });
  }

  /** Host CPU, memory and disk per service (system administrators only). */
  systemInfo(): Promise<Read<SystemInfo>> {
    return attempt('system info (CPU, memory)', () => this.client.get<SystemInfo>('/api/admin/systemInfo'));
  }
}

/** One scrape of TB_METRICS_URL; unreachable or disabled → `{ ok: false, why }`. */
export function readPrometheus(url: string, timeoutMs = 5000): Promise<Read<Exposition>> {
  return attempt(`Prometheus metrics at ${shownUrl(url)}`, () => scrapePrometheus(url, timeoutMs));
}
