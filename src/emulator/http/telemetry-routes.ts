// /api/plugins/telemetry: attributes in three scopes, time-series read/save/delete and key lists,
// with the telemetry controller's plain-text error bodies (docs/thingsboard-behaviour.md#telemetry-and-attributes-over-rest).
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { ApiError, PlainError, type Device } from '../model.js';
import type { AttributeScope } from '../device-state.js';
import { castValues, parseTelemetry, PayloadError } from '../payload.js';
import { readTimeseries, type Agg, type TsQuery } from '../timeseries.js';
import { boolParam } from './params.js';
import { INTERVAL_TYPES, type IntervalType } from '../calendar.js';

const P = '/api/plugins/telemetry';
const SCOPES = ['CLIENT_SCOPE', 'SERVER_SCOPE', 'SHARED_SCOPE'];
const AGGS = ['NONE', 'MIN', 'MAX', 'AVG', 'SUM', 'COUNT'];

type Ent = { entityType: string; entityId: string };
type TsQs = Record<string, string | undefined>;

function keyList(q: TsQs): string[] | undefined {
  const keys = q.keys ?? q.key;
  if (keys === undefined || keys === '') return undefined;
  return keys
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

function num(q: TsQs, name: string, def?: number): number | undefined {
  const v = q[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new ApiError(400, 31, `Failed to convert value of type 'java.lang.String' to required type 'long'; For input string: "${v}"`);
  return n;
}

function enumParam(q: TsQs, name: string, allowed: string[], def: string): string {
  const v = (q[name] ?? def).toUpperCase();
  if (!allowed.includes(v)) throw new ApiError(400, 31, `No enum constant ${name}.${q[name]}`);
  return v;
}

/** `IntervalType intervalType` as Spring's StringToEnumConverterFactory reads it: trimmed, case-sensitive. */
function intervalTypeParam(v: string | undefined): IntervalType | undefined {
  const t = v?.trim();
  if (!t) return undefined;
  if (!(INTERVAL_TYPES as readonly string[]).includes(t)) {
    const message = "Failed to convert value of type 'java.lang.String' to required type 'IntervalType'; ";
    throw new ApiError(400, 31, `${message}No enum constant IntervalType.${t}`);
  }
  return t as IntervalType;
}

export function telemetryRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { store } = ctx;
  const device = (entityType: string, entityId: string): Device => {
    if (entityType !== 'DEVICE') throw new PlainError(400, `Entity type ${entityType} is not supported by the emulator (DEVICE only)`);
    const d = store.registry.devices.get(entityId.toLowerCase());
    if (!d) throw new PlainError(404, "Device with requested id wasn't found!");
    return d;
  };
  const writableScope = (scope: string): AttributeScope => {
    if (scope === 'CLIENT_SCOPE') throw new PlainError(400, 'Invalid scope: CLIENT_SCOPE');
    if (!SCOPES.includes(scope)) throw new ApiError(400, 31, `No enum constant AttributeScope.${scope}`);
    return scope as AttributeScope;
  };
  const attrBody = (body: unknown): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(String(body ?? ''));
    } catch {
      throw new PlainError(400, 'Invalid JSON');
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PlainError(400, 'Request is not a JSON object');
    if (Object.keys(v).length === 0) throw new PlainError(400, 'No attributes data found in request body!');
    if (Object.keys(v).some((k) => k.trim() === '')) throw new PlainError(400, 'Key cannot be blank');
    return castValues(v as Record<string, unknown>); // TelemetryController.saveAttributes → JsonConverter.convertToAttributes
  };
  const saveAttributes = (d: Device, scope: string, body: unknown) =>
    store.saveAttributes(d, writableScope(scope), attrBody(body), store.opts.clock());
  const attributes = (d: Device, scope: AttributeScope) =>
    scope === 'SERVER_SCOPE' ? store.serverAttributes(d) : d.state.attributes[scope];

  app.post<{ Params: Ent & { scope: string } }>(`${P}/:entityType/:entityId/attributes/:scope`, async (req, reply) => {
    saveAttributes(device(req.params.entityType, req.params.entityId), req.params.scope, req.body);
    return reply.code(200).send();
  });
  app.post<{ Params: Ent & { scope: string } }>(`${P}/:entityType/:entityId/:scope`, async (req, reply) => {
    saveAttributes(device(req.params.entityType, req.params.entityId), req.params.scope, req.body);
    return reply.code(200).send();
  });
  app.post<{ Params: { deviceId: string; scope: string } }>(`${P}/:deviceId/:scope`, async (req, reply) => {
    saveAttributes(device('DEVICE', req.params.deviceId), req.params.scope, req.body);
    return reply.code(200).send();
  });

  app.get<{ Params: Ent & { scope?: string }; Querystring: TsQs }>(`${P}/:entityType/:entityId/values/attributes`, async (req) =>
    readAttributes(req.params, req.query),
  );
  app.get<{ Params: Ent & { scope?: string }; Querystring: TsQs }>(`${P}/:entityType/:entityId/values/attributes/:scope`, async (req) =>
    readAttributes(req.params, req.query),
  );
  function readAttributes(params: Ent & { scope?: string }, q: TsQs) {
    const d = device(params.entityType, params.entityId);
    if (params.scope !== undefined && !SCOPES.includes(params.scope))
      throw new ApiError(400, 31, `No enum constant AttributeScope.${params.scope}`);
    const scopes = (params.scope ? [params.scope] : SCOPES) as AttributeScope[];
    const keys = keyList(q);
    const out: { lastUpdateTs: number; key: string; value: unknown }[] = [];
    for (const s of scopes)
      for (const [key, a] of attributes(d, s))
        if (!keys || keys.includes(key)) out.push({ lastUpdateTs: a.lastUpdateTs, key, value: a.value });
    return out;
  }

  app.get<{ Params: Ent & { scope?: string } }>(`${P}/:entityType/:entityId/keys/attributes`, async (req) => attributeKeys(req.params));
  app.get<{ Params: Ent & { scope?: string } }>(`${P}/:entityType/:entityId/keys/attributes/:scope`, async (req) =>
    attributeKeys(req.params),
  );
  function attributeKeys(params: Ent & { scope?: string }) {
    const d = device(params.entityType, params.entityId);
    const scopes = (params.scope ? [params.scope] : SCOPES) as AttributeScope[];
    return [...new Set(scopes.flatMap((s) => [...(attributes(d, s)?.keys() ?? [])]))];
  }
  app.get<{ Params: Ent }>(`${P}/:entityType/:entityId/keys/timeseries`, async (req) => [
    ...store.latest(device(req.params.entityType, req.params.entityId)).keys(),
  ]);

  const readTs = (params: Ent, q: TsQs) => {
    const d = device(params.entityType, params.entityId);
    const query: TsQuery = {
      keys: keyList(q),
      startTs: num(q, 'startTs'),
      endTs: num(q, 'endTs'),
      interval: num(q, 'interval', 0)!,
      intervalType: intervalTypeParam(q.intervalType),
      timeZone: q.timeZone,
      agg: enumParam(q, 'agg', AGGS, 'NONE') as Agg,
      limit: num(q, 'limit', 100)!,
      orderBy: enumParam(q, 'orderBy', ['ASC', 'DESC'], 'DESC') as 'ASC' | 'DESC',
      useStrictDataTypes: boolParam(q, 'useStrictDataTypes', false),
    };
    if ((query.startTs === undefined) !== (query.endTs === undefined)) {
      query.startTs = query.endTs = undefined; // ThingsBoard falls back to latest values
    }
    return readTimeseries(store, d, query);
  };
  app.get<{ Params: Ent; Querystring: TsQs }>(`${P}/:entityType/:entityId/values/timeseries`, async (req) => readTs(req.params, req.query));
  app.get<{ Params: Ent; Querystring: TsQs }>(`${P}/:entityType/:entityId/values/timeseries/history`, async (req) => {
    if (req.query.startTs === undefined || req.query.endTs === undefined)
      throw new ApiError(400, 31, "Required request parameter 'startTs' for method parameter type Long is not present");
    return readTs(req.params, req.query);
  });

  const saveTs = (params: Ent, body: unknown) => {
    const d = device(params.entityType, params.entityId);
    let rows;
    try {
      rows = parseTelemetry(String(body ?? ''), store.opts.clock());
    } catch (e) {
      if (e instanceof PayloadError) throw new PlainError(400, `Unable to parse time series payload: Invalid JSON body: ${e.message}`);
      throw e;
    }
    if (rows.length === 0 || rows.every((r) => Object.keys(r.values).length === 0))
      throw new PlainError(400, 'No time series data found in request body!');
    store.ingestTelemetry(d, rows, store.opts.clock(), false); // a REST save is no device activity
  };
  app.post<{ Params: Ent }>(`${P}/:entityType/:entityId/timeseries/:scope`, async (req, reply) => {
    saveTs(req.params, req.body);
    return reply.code(200).send();
  });
  app.post<{ Params: Ent }>(`${P}/:entityType/:entityId/timeseries/:scope/:ttl`, async (req, reply) => {
    saveTs(req.params, req.body);
    return reply.code(200).send();
  });

  app.delete<{ Params: Ent; Querystring: TsQs }>(`${P}/:entityType/:entityId/timeseries/delete`, async (req, reply) => {
    const d = device(req.params.entityType, req.params.entityId);
    const keys = keyList(req.query);
    if (!keys) throw new PlainError(400, 'Empty keys: []');
    const all = boolParam(req.query, 'deleteAllDataForKeys', false);
    const startTs = num(req.query, 'startTs');
    const endTs = num(req.query, 'endTs');
    if (!all && (startTs === undefined || endTs === undefined)) {
      throw new PlainError(400, "When deleteAllDataForKeys is false, start and end timestamp values shouldn't be empty");
    }
    for (const k of keys) d.state.history.delete(k, all ? -Infinity : startTs!, all ? Infinity : endTs!);
    if (boolParam(req.query, 'deleteLatest', true)) {
      for (const [id, row] of d.state.latestByKeyset) {
        const hit = keys.some((k) => k in row.values && (all || (row.ts >= startTs! && row.ts < endTs!)));
        if (hit) {
          const rest = { ...row.values };
          for (const k of keys) delete rest[k];
          d.state.latestByKeyset.set(id, { ts: row.ts, values: rest });
        }
      }
    }
    return reply.code(200).send();
  });

  const deleteAttributes = (d: Device, scope: string, q: TsQs) => {
    const s = writableScope(scope === 'CLIENT_SCOPE' ? 'SERVER_SCOPE' : scope) && (scope as AttributeScope);
    const keys = keyList(q) ?? [];
    for (const k of keys) d.state.attributes[s].delete(k);
    if (keys.length) ctx.events.emit('attributesDeleted', { deviceId: d.id, scope: s, keys });
  };
  app.delete<{ Params: Ent & { scope: string }; Querystring: TsQs }>(`${P}/:entityType/:entityId/:scope`, async (req, reply) => {
    deleteAttributes(device(req.params.entityType, req.params.entityId), req.params.scope, req.query);
    return reply.code(200).send();
  });
  app.delete<{ Params: { deviceId: string; scope: string }; Querystring: TsQs }>(`${P}/:deviceId/:scope`, async (req, reply) => {
    deleteAttributes(device('DEVICE', req.params.deviceId), req.params.scope, req.query);
    return reply.code(200).send();
  });
}
