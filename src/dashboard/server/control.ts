// POST /api/control/stop: guarded by the control token, sent as `Authorization: Bearer <token>` or `X-Control-Token: <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';

export interface ControlOptions {
  token: string;
  onStop: (reason: string) => void;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function presentedToken(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = req.headers['x-control-token'];
  return typeof x === 'string' && x.length > 0 ? x : null;
}

export const controlPlugin: FastifyPluginAsync<ControlOptions> = async (app, opts) => {
  const expected = digest(opts.token);
  let stopRequested = false;

  app.addHook('onRequest', async (req, reply) => {
    const got = presentedToken(req);
    // compare digests: equal length, constant time, and the token never reaches a log
    if (got === null || !timingSafeEqual(digest(got), expected)) {
      reply.code(401).header('www-authenticate', 'Bearer realm="tblab-control"');
      return reply.send({ status: 401, message: 'Missing or wrong control token (see data/control/control-token)', timestamp: Date.now() });
    }
  });

  app.post('/api/control/stop', async (_req, reply) => {
    const already = stopRequested;
    if (!already) {
      stopRequested = true;
      opts.onStop('stopped via control endpoint');
    }
    return reply.code(202).send({ accepted: true, alreadyStopping: already });
  });
};
