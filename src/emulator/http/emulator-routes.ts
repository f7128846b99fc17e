// Emulator-only endpoints, outside ThingsBoard's paths: ingest statistics for tests and the lab's
// delivery check, and the fault settings (read and change at runtime). A web page on another origin
// must not drive them (a browser sends `Origin`), and a control token, when set, guards them all.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from './context.js';
import { jsonBody } from './context.js';
import { validateFaults } from '../faults.js';

const CROSS_ORIGIN = 'cross-origin request refused: /__emulator accepts requests from its own origin only';
const TOKEN_REQUIRED = 'control token required: send it in the X-Emulator-Token header (tblab emulator --control-token)';

/** True when the request carries no `Origin`, or one naming this server (scheme aside, the same host:port). */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false; // `null` (sandboxed pages, file:) or garbage
  }
}

function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers['x-emulator-token'];
  if (typeof h === 'string') return h;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function emulatorRoutes(parent: FastifyInstance, ctx: HttpContext): Promise<void> {
  await parent.register(async (app) => {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (!sameOrigin(req)) return reply.code(403).send({ error: CROSS_ORIGIN });
      if (ctx.controlToken !== null && !tokenMatches(tokenOf(req), ctx.controlToken)) {
        return reply.code(401).send({ error: TOKEN_REQUIRED });
      }
    });
    controlRoutes(app, ctx);
  });
}

function controlRoutes(app: FastifyInstance, ctx: HttpContext): void {
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
