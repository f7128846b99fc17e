// ThingsBoard's HTTP device API (docs/thingsboard-behaviour.md#http-device-api): telemetry and attributes by access
// token; 200/401 empty, 500 text on bad JSON, 500 empty when rate-limited.
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { parseAttributes, parseTelemetry, PayloadError } from '../payload.js';

type TokenParams = { Params: { token: string } };

/** Body limit of the device API (ThingsBoard: 52428800 for /api/v1/**). */
export const DEVICE_API_BODY_LIMIT = 52428800;

export function deviceApiRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const reg = ctx.store.registry;
  const opts = { bodyLimit: DEVICE_API_BODY_LIMIT };

  app.post<TokenParams>('/api/v1/:token/telemetry', opts, async (req, reply) => {
    const d = reg.byToken.get(req.params.token);
    if (!d) return reply.code(401).send();
    const now = ctx.store.opts.clock();
    let rows;
    try {
      rows = parseTelemetry(String(req.body ?? ''), now);
    } catch (e) {
      if (e instanceof PayloadError) return reply.code(500).type('text/plain; charset=utf-8').send(e.message);
      throw e;
    }
    if (!ctx.ingest.admit(d, rows, now, 'http')) return reply.code(500).send();
    ctx.ingest.telemetry(d, rows, now);
    return reply.code(200).send();
  });

  app.post<TokenParams>('/api/v1/:token/attributes', opts, async (req, reply) => {
    const d = reg.byToken.get(req.params.token);
    if (!d) return reply.code(401).send();
    const now = ctx.store.opts.clock();
    let values;
    try {
      values = parseAttributes(String(req.body ?? ''));
    } catch (e) {
      if (e instanceof PayloadError) return reply.code(500).type('text/plain; charset=utf-8').send(e.message);
      throw e;
    }
    if (!ctx.ingest.admit(d, null, now, 'http')) return reply.code(500).send();
    ctx.store.saveAttributes(d, 'CLIENT_SCOPE', values, now);
    return reply.code(200).send();
  });

  app.get<TokenParams & { Querystring: { clientKeys?: string; sharedKeys?: string } }>('/api/v1/:token/attributes', async (req, reply) => {
    const d = reg.byToken.get(req.params.token);
    if (!d) return reply.code(401).send();
    d.state.lastActivityTime = ctx.store.opts.clock();
    // DeviceApiController.getDeviceAttributes: an empty list parameter counts as absent
    const list = (v: string | undefined) => (v ? v.split(',') : null);
    return ctx.store.attributeRequest(d, list(req.query.clientKeys), list(req.query.sharedKeys));
  });
}
