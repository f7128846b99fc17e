// What every route module gets: the emulator's parts, and the helpers that turn failures into
// ThingsBoard's JSON error envelope or its telemetry controller's plain-text bodies.
import type { FastifyReply } from 'fastify';
import type { Store } from '../store.js';
import type { Auth } from '../auth.js';
import type { Ingest } from '../ingest.js';
import type { Faults } from '../faults.js';
import type { EmulatorEvents } from '../events.js';
import { ApiError, PlainError } from '../model.js';
import type { TokenBucket } from '../rate-limit.js';
import type { ServerStats } from '../server-stats.js';
import type { RpcBroker } from '../mqtt/rpc.js';

export interface HttpContext {
  store: Store;
  auth: Auth;
  ingest: Ingest;
  faults: Faults;
  /** Per-tenant REST limit (429/33 on excess); bucket null = unlimited. Replaced at runtime. */
  restLimit: { bucket: TokenBucket | null };
  events: EmulatorEvents;
  /** Largest HTTP device API body, bytes (413 beyond). */
  httpMaxPayloadSize: number;
  /** Required on `/__emulator/*` requests when set. */
  controlToken: string | null;
  /** Closes the device's live MQTT session (credentials changed). */
  closeSession(deviceId: string, reason: 'credentials-updated'): void;
  /** The /__emulator/stats body: one device's detail, or totals with (or without) `perDevice`. */
  stats(query: { device?: string; perDevice?: boolean }): unknown;
  /** Applies a fault patch at runtime (validated). */
  setFaults(patch: Record<string, unknown>): void;
  /** Stops reading every MQTT socket for `ms`. */
  stall(ms: number): void;
  /** Closes a share 0..1 of the live MQTT sessions; returns how many. */
  dropSessions(share: number): number;
  /** ThingsBoard's own statistics (queue stats, API usage, system info, Prometheus). */
  serverStats?: { stats: ServerStats; connections(): number };
  /** Server-side RPC to device sessions (the /api/rpc and /api/plugins/rpc routes). */
  rpc?: RpcBroker;
}

/** Writes ThingsBoard's error envelope `{status, message, errorCode, timestamp}`. */
export function sendApiError(reply: FastifyReply, e: ApiError): FastifyReply {
  return reply
    .code(e.status)
    .type('application/json')
    .send({ status: e.status, message: e.message, errorCode: e.errorCode, timestamp: Date.now(), ...e.extra });
}

export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof PlainError) return reply.code(e.status).type('text/plain; charset=utf-8').send(e.message);
  if (e instanceof ApiError) return sendApiError(reply, e);
  throw e;
}

/** Parses a REST JSON body (kept as text by the content parser); bad JSON → 400/31 like Spring. */
export function jsonBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'string' || body.trim() === '') throw new ApiError(400, 31, 'Required request body is missing');
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw new ApiError(400, 31, `Invalid request body: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError(400, 31, 'Invalid request body: expected a JSON object');
  return v as Record<string, unknown>;
}
