// Login, refresh, current user and logout (docs/thingsboard-behaviour.md#authentication).
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { jsonBody } from './context.js';
import { ApiError } from '../model.js';

/** Unauthenticated: POST /api/auth/login and /api/auth/token. */
export function publicAuthRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const body = (raw: unknown) => {
    try {
      return jsonBody(raw);
    } catch {
      throw new ApiError(401, 10, 'Authentication failed');
    }
  };
  app.post('/api/auth/login', async (req) => {
    const b = body(req.body);
    return ctx.auth.login(b.username, b.password);
  });
  app.post('/api/auth/token', async (req) => ctx.auth.refresh(body(req.body).refreshToken));
  for (const url of ['/api/auth/login', '/api/auth/token']) {
    app.route({
      method: ['GET', 'PUT', 'DELETE', 'PATCH'],
      url,
      handler: async () => {
        throw new ApiError(401, 10, 'Authentication method not supported');
      },
    });
  }
}

/** Authenticated: GET /api/auth/user, POST /api/auth/logout. */
export function authRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get('/api/auth/user', async () => ctx.auth.user());
  app.post('/api/auth/logout', async (_req, reply) => reply.code(200).send());
}
