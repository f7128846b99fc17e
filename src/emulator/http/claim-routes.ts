// Device provisioning and claiming over HTTP (docs/thingsboard-behaviour.md#provisioning-and-claiming):
// the device side on the device API (DeviceApiController: POST /api/v1/provision, POST /api/v1/{token}/claim),
// and the user side (DeviceController claimDevice/reClaimDevice) with the customers and customer users
// (CustomerController, UserController) it needs.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jsonBody, type HttpContext } from './context.js';
import { deviceJson } from './shapes.js';
import { page, type PageQuery } from './paging.js';
import { ApiError } from '../model.js';
import { parseClaimPayload } from '../claim.js';
import { parseProvisionRequest, ProvisionRequestError } from '../provision.js';

const header = (req: FastifyRequest) => {
  const h = req.headers['x-authorization'] ?? req.headers.authorization;
  return Array.isArray(h) ? h[0] : h;
};

/** Unauthenticated: the device API forms. */
export function deviceClaimProvisionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const store = ctx.store;
  app.post('/api/v1/provision', async (req, reply) => {
    let answer;
    try {
      answer = store.provisioning.provision(parseProvisionRequest(String(req.body ?? '')));
    } catch (e) {
      // JsonConverter throws in the controller itself: ThingsBoard's error handler answers 500
      if (e instanceof ProvisionRequestError) throw new ApiError(500, 2, e.message);
      throw e;
    }
    // DeviceProvisionCallback: every answer of the provision service is 200, NOT_FOUND and FAILURE too
    return reply.code(200).type('application/json').send(JSON.stringify(answer));
  });

  app.post<{ Params: { token: string } }>('/api/v1/:token/claim', async (req, reply) => {
    const d = store.registry.byToken.get(req.params.token);
    if (!d) return reply.code(401).send();
    let claim;
    try {
      claim = parseClaimPayload(String(req.body ?? ''));
    } catch (e) {
      return reply
        .code(500)
        .type('text/plain; charset=utf-8')
        .send((e as Error).message);
    }
    const now = store.opts.clock();
    if (!ctx.ingest.admit(d, null, now, 'http')) return reply.code(500).send();
    d.state.lastActivityTime = now;
    store.claims.register(d, claim.secretKey, claim.durationMs);
    return reply.code(200).send();
  });
}

/** Authenticated (the /api scope): customers, customer users and their tokens, claim and reclaim. */
export function claimRoutes(api: FastifyInstance, ctx: HttpContext): void {
  const reg = ctx.store.registry;
  const customers = reg.customers;
  const deviceByName = (name: string) => {
    const d = reg.byName.get(name);
    if (!d) throw new ApiError(404, 32, "Requested item wasn't found!");
    return d;
  };

  api.post('/api/customer', async (req) => customers.customerJson(customers.createCustomer(jsonBody(req.body))));
  api.get<{ Params: { id: string } }>('/api/customer/:id', async (req) => customers.customerJson(customers.getCustomer(req.params.id)));
  api.get<{ Querystring: PageQuery }>('/api/customers', async (req) => {
    const p = page(
      [...customers.byId.values()],
      req.query,
      (c) => [c.title],
      { title: (c) => c.title, createdTime: (c) => c.createdTime },
      (c) => c.id,
    );
    return { ...p, data: p.data.map((c) => customers.customerJson(c)) };
  });
  // sendActivationMail is not acted on: the user gets no password; its JWT comes from /api/user/{id}/token
  api.post('/api/user', async (req) => customers.userJson(customers.createUser(jsonBody(req.body))));
  api.get<{ Params: { id: string } }>('/api/user/:id', async (req) => customers.userJson(customers.getUser(req.params.id)));
  // UserController.getUserToken (security.user_token_access_enabled: true): a tenant admin logs in as its customer user
  api.get<{ Params: { id: string } }>('/api/user/:id/token', async (req) => ctx.auth.customerUserPair(customers.getUser(req.params.id)));

  const customerUser = { config: { customerUser: true } };
  // @PreAuthorize("hasAuthority('CUSTOMER_USER')"): SUCCESS → 200 ClaimResult; FAILURE/CLAIMED → 400 with the bare enum
  api.post<{ Params: { deviceName: string } }>('/api/customer/device/:deviceName/claim', customerUser, async (req, reply) => {
    const claims = await ctx.auth.verifyHeader(header(req), true);
    if (!claims.scopes?.includes('CUSTOMER_USER')) throw new ApiError(403, 20, "You don't have permission to perform this operation!");
    const d = deviceByName(req.params.deviceName);
    // getSecretKey(claimRequest): no body is a NullPointerException (500); no secretKey is the empty default
    if (typeof req.body !== 'string' || req.body.trim() === '') throw new ApiError(500, 2, 'Claim request body is missing');
    const key = jsonBody(req.body).secretKey;
    const r = ctx.store.claims.claim(d, String(claims.customerId), typeof key === 'string' ? key : '');
    if (r === 'SUCCESS') return { device: deviceJson(reg, d), response: r };
    return reply.code(400).type('application/json').send(JSON.stringify(r));
  });
  // reClaimDevice: TENANT_ADMIN or CUSTOMER_USER; CustomerUserPermissions lets CLAIM_DEVICES through for any device
  // of the tenant, whichever customer holds it
  api.delete<{ Params: { deviceName: string } }>('/api/customer/device/:deviceName/claim', customerUser, async (req, reply) => {
    ctx.store.claims.reclaim(deviceByName(req.params.deviceName));
    return reply.code(200).send();
  });
}
