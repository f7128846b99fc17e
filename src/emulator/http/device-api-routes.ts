// ThingsBoard's HTTP device API (docs/thingsboard-behaviour.md#http-device-api): telemetry and attributes by access
// token; 200/401 empty, 500 text on bad JSON, 500 empty when rate-limited, 413 over `transport.http.max_payload_size`
// (the body limit, answered in app.ts). The `throttleHttp` fault answers 429 first, as a proxy in front would.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from './context.js';
import { parseAttributes, parseTelemetry, PayloadError } from '../payload.js';

type TokenParams = { Params: { token: string } };

export function deviceApiRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const reg = ctx.store.registry;
  // before the body is read, as a proxy's limit would be (and ThingsBoard's PayloadSizeFilter, by Content-Length)
  const onRequest = async (_req: FastifyRequest, reply: FastifyReply) => {
    const share = ctx.faults.throttleHttp;
    if (share > 0 && Math.random() < share) {
      ctx.store.totals.httpThrottled++;
      return reply.code(429).send();
    }
  };
  const opts = { bodyLimit: ctx.httpMaxPayloadSize, onRequest };

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
