// Server-side RPC over REST: v1 `/api/plugins/rpc/{oneway|twoway}/{deviceId}` (RpcV1Controller: 408 on
// timeout, 409 when no session took the request) and v2 `/api/rpc/{oneway|twoway}/{deviceId}`
// (RpcV2Controller: 504 for both). Request parsing and replies follow
// application/.../controller/AbstractRpcController.java (handleDeviceRPCRequest, reply).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../model.js';
import type { RpcBroker } from '../mqtt/rpc.js';
import type { HttpContext } from './context.js';

/** thingsboard.yml server.rest.server_side_rpc: min_timeout 5000, default_timeout 10000 (ms). */
const MIN_TIMEOUT_MS = 5000;
const DEFAULT_TIMEOUT_MS = 10000;

interface Version {
  prefix: string;
  timeoutStatus: number;
  noConnectionStatus: number;
}

const VERSIONS: Version[] = [
  { prefix: '/api/plugins/rpc', timeoutStatus: 408, noConnectionStatus: 409 },
  { prefix: '/api/rpc', timeoutStatus: 504, noConnectionStatus: 504 },
];

export function rpcRoutes(api: FastifyInstance, ctx: HttpContext, rpc: RpcBroker): void {
  for (const v of VERSIONS) {
    for (const mode of ['oneway', 'twoway'] as const) {
      api.post<{ Params: { deviceId: string } }>(`${v.prefix}/${mode}/:deviceId`, async (req, reply) => {
        const d = ctx.store.registry.getDevice(req.params.deviceId);
        const body = parseBody(req.body);
        if (body.persistent === true) {
          // persisted RPC (Rpc entities, /api/rpc/persistent/*) is not imitated: refused, counted
          rpc.counters.unimplemented++;
          throw new ApiError(400, 31, 'Persistent RPC is not imitated by the emulator');
        }
        const now = ctx.store.opts.clock();
        const timeout = body.timeout !== undefined ? Number(body.timeout) : DEFAULT_TIMEOUT_MS;
        const expiresAt = body.expirationTime !== undefined ? Number(body.expirationTime) : now + Math.max(MIN_TIMEOUT_MS, timeout);
        if (!Number.isFinite(expiresAt)) throw new ApiError(400, 31, 'Invalid request body');
        const o = await rpc.call(d, { method: String(body.method), params: body.params, oneway: mode === 'oneway', expiresAt });
        return answer(reply, o.kind === 'response' ? o.body : o.kind === 'timeout' ? v.timeoutStatus : v.noConnectionStatus);
      });
    }
  }
}

/** JacksonUtil.toJsonNode: bad JSON → IllegalArgumentException → 400 "Invalid request body"; no `method` fails too. */
function parseBody(raw: unknown): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(typeof raw === 'string' ? raw : '');
  } catch {
    throw new ApiError(400, 31, 'Invalid request body');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError(400, 31, 'Invalid request body');
  const body = v as Record<string, unknown>;
  if (body.method === undefined || body.method === null) throw new ApiError(400, 31, 'Invalid request body: no "method"');
  return body;
}

/** reply(): an error status with no body; the device's response as JSON (406 when it is not JSON); empty → 200. */
function answer(reply: FastifyReply, r: string | number | null): FastifyReply {
  if (typeof r === 'number') return reply.code(r).send();
  if (r === null || r === '') return reply.code(200).send();
  try {
    JSON.parse(r);
  } catch {
    return reply.code(406).send();
  }
  return reply.code(200).type('application/json').send(r);
}
