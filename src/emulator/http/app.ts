// The HTTP side on Fastify: bodies kept as text (each API parses its own way), authentication and
// the REST rate limit on /api/**, the REST latency fault, and errors in ThingsBoard's shapes.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError, PlainError } from '../model.js';
import { isLabError } from '../../common/errors.js';
import { sendApiError, sendError, type HttpContext } from './context.js';
import { authRoutes, publicAuthRoutes } from './auth-routes.js';
import { deviceRoutes } from './device-routes.js';
import { lookupRoutes } from './lookup-routes.js';
import { telemetryRoutes } from './telemetry-routes.js';
import { deviceApiRoutes } from './device-api-routes.js';
import { emulatorRoutes } from './emulator-routes.js';
import { statsRoutes } from './stats-routes.js';
import { rpcRoutes } from './rpc-routes.js';
import { claimRoutes, deviceClaimProvisionRoutes } from './claim-routes.js';

/** REST body limit (ThingsBoard: 16777216 for /api/**). */
const REST_BODY_LIMIT = 16777216;

export interface HttpAppOptions {
  /** Called with the app before it starts, to add routes (e.g. a WebSocket API). */
  extend?: (app: FastifyInstance) => void | Promise<void>;
}

export async function buildHttpApp(ctx: HttpContext, opts: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: REST_BODY_LIMIT, forceCloseConnections: true, return503OnClosing: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError || err instanceof PlainError) return sendError(reply, err);
    if (isLabError(err)) return reply.code(400).send({ error: err.toJSON() });
    const e = err as { code?: string; statusCode?: number; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // the device API's PayloadSizeFilter writes the message as a JSON string (JacksonUtil.writeValue)
      const limit = req.url.startsWith('/api/v1/') ? ctx.httpMaxPayloadSize : 0;
      if (limit) return reply.code(413).send(JSON.stringify(`Payload size exceeds the limit of ${limit} bytes`));
      return sendApiError(reply, new ApiError(413, 31, 'Payload size exceeds the limit'));
    }
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    const code = ({ 400: 31, 401: 10, 403: 20, 404: 32, 429: 33 } as Record<number, number>)[status] ?? 2;
    return sendApiError(reply, new ApiError(status, code, e.message ?? 'Internal error'));
  });
  app.setNotFoundHandler((_req, reply) => sendApiError(reply, new ApiError(404, 32, "Requested item wasn't found!")));

  // REST latency fault: device API and /__emulator stay prompt
  app.addHook('onRequest', async (req) => {
    const ms = ctx.faults.restLatencyMs;
    if (ms > 0 && req.url.startsWith('/api/') && !req.url.startsWith('/api/v1/')) await new Promise((r) => setTimeout(r, ms));
  });

  publicAuthRoutes(app, ctx);
  deviceApiRoutes(app, ctx);
  deviceClaimProvisionRoutes(app, ctx);
  await emulatorRoutes(app, ctx);
  if (ctx.serverStats) statsRoutes(app, ctx, ctx.serverStats.stats, ctx.serverStats.connections);
  await app.register(async (api) => {
    api.addHook('onRequest', async (req) => {
      const h = req.headers['x-authorization'] ?? req.headers.authorization;
      // a customer user's JWT passes only where a route allows it (claim-routes.ts); elsewhere 403
      await ctx.auth.verifyHeader(
        Array.isArray(h) ? h[0] : h,
        (req.routeOptions.config as { customerUser?: boolean }).customerUser === true,
      );
      if (ctx.restLimit.bucket && !ctx.restLimit.bucket.tryConsume(1)) {
        ctx.events.emit('rateLimited', { scope: 'rest' });
        throw new ApiError(429, 33, 'Too many requests for current tenant!');
      }
    });
    authRoutes(api, ctx);
    deviceRoutes(api, ctx);
    lookupRoutes(api, ctx);
    telemetryRoutes(api, ctx);
    if (ctx.rpc) rpcRoutes(api, ctx, ctx.rpc);
    claimRoutes(api, ctx);
  });
  if (opts.extend) await opts.extend(app);
  return app;
}
