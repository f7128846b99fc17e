// Emulator-only endpoints, outside ThingsBoard's paths: ingest statistics for tests and the lab's
// delivery check, and the fault settings (read and change at runtime).
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { jsonBody } from './context.js';

export function emulatorRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Querystring: { device?: string } }>('/__emulator/stats', async (req, reply) => {
    const body = ctx.stats(req.query.device);
    if (body === undefined) return reply.code(404).send({ error: `no device named ${JSON.stringify(req.query.device)}` });
    return body;
  });
  app.get('/__emulator/faults', async () => ctx.faults);
  app.put('/__emulator/faults', async (req) => {
    ctx.setFaults(jsonBody(req.body));
    return ctx.faults;
  });
}
