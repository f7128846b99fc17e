// Emulator-only endpoints, outside ThingsBoard's paths: ingest statistics for tests and the lab's
// delivery check, and the fault settings (read and change at runtime).
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { jsonBody } from './context.js';
import { validateFaults } from '../faults.js';

export function emulatorRoutes(app: FastifyInstance, ctx: HttpContext): void {
  // ?device=NAME: one device with its missing sequences; ?perDevice=0: totals only
  app.get<{ Querystring: { device?: string; perDevice?: string } }>('/__emulator/stats', async (req, reply) => {
    const body = ctx.stats({ device: req.query.device, perDevice: req.query.perDevice !== '0' && req.query.perDevice !== 'false' });
    if (body === undefined) return reply.code(404).send({ error: `no device named ${JSON.stringify(req.query.device)}` });
    return body;
  });
  app.get('/__emulator/faults', async () => ctx.faults);
  app.put('/__emulator/faults', async (req) => {
    ctx.setFaults(jsonBody(req.body));
    return ctx.faults;
  });
  // one-off actions: POST /__emulator/stall?ms=3000, POST /__emulator/drop?share=0.5 (default 1)
  app.post<{ Querystring: { ms?: string } }>('/__emulator/stall', async (req) => {
    const ms = validateFaults({ stallMs: req.query.ms ?? '' }).stallMs!;
    ctx.stall(ms);
    return { stalledMs: ms };
  });
  app.post<{ Querystring: { share?: string } }>('/__emulator/drop', async (req) => {
    const share = validateFaults({ dropShare: req.query.share ?? '1' }).dropShare!;
    return { dropped: ctx.dropSessions(share) };
  });
}
