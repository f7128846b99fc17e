// Misbehaviour on demand: the fault settings (all off by default), their validation, and the
// runtime holder the MQTT and HTTP servers read on every decision, so faults can change mid-run.
import { LabError } from '../common/errors.js';

export interface Faults {
  /** Delay before each batch of PUBACKs is written, ms (default 0). */
  ackLatencyMs: number;
  /** Delay before every REST reply (not the device API or /__emulator), ms (default 0). */
  restLatencyMs: number;
  /** Share 0..1 of CONNECTs answered with CONNACK "server unavailable" (3; v5 0x88) (default 0). */
  refuseConnects: number;
  /** Share 0..1 of accepted sessions closed by the server `dropAfterSec` after CONNACK (default 0). */
  dropShare: number;
  /** Seconds after CONNACK at which a session picked by `dropShare` is closed (default 10). */
  dropAfterSec: number;
  /** Length of a stall (every MQTT socket stops being read), ms; 0 = none (default 0). */
  stallMs: number;
  /** Repeat the stall every this many seconds; 0 = one stall, starting when set (default 0). */
  stallEverySec: number;
  /** Most concurrent MQTT connections; CONNECTs beyond get CONNACK 3 (v5 0x97); 0 = unlimited. */
  maxConnections: number;
  /** Share 0..1 of accepted telemetry messages acknowledged but not stored (default 0). */
  ingestLoss: number;
  /** Store telemetry this many ms after the PUBACK (default 0 = at once). */
  processingDelayMs: number;
  /** Set up each MQTT session (CONNACK) this many ms after its CONNECT; packets meanwhile queue (default 0). */
  connectDelayMs: number;
  /** Hold each device's RPC response this long before it reaches the waiting caller (REST call or client-side RPC), ms (default 0). */
  rpcResponseDelayMs: number;
  /** Share 0..1 of devices' responses to two-way server-side RPC that are lost: the call ends with the timeout answer (default 0). */
  rpcTimeoutShare: number;
  /**
   * Share 0..1 of HTTP device API requests answered 429 Too Many Requests before ThingsBoard sees them, as a
   * rate-limiting proxy in front of it does (ThingsBoard's own transport rate limits answer 500) (default 0).
   */
  throttleHttp: number;
  /**
   * Most child devices one gateway session holds; the next is refused as ThingsBoard refuses a child
   * over the tenant's device limit (0 = no limit, default).
   */
  gatewayChildLimit: number;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  ackLatencyMs: 0,
  restLatencyMs: 0,
  refuseConnects: 0,
  dropShare: 0,
  dropAfterSec: 10,
  stallMs: 0,
  stallEverySec: 0,
  maxConnections: 0,
  ingestLoss: 0,
  processingDelayMs: 0,
  connectDelayMs: 0,
  rpcResponseDelayMs: 0,
  rpcTimeoutShare: 0,
  throttleHttp: 0,
  gatewayChildLimit: 0,
});

const SHARES = new Set<keyof Faults>(['refuseConnects', 'dropShare', 'ingestLoss', 'rpcTimeoutShare', 'throttleHttp']);

/** Checks a partial fault set; throws USAGE naming every bad key and the expected form. */
export function validateFaults(patch: Partial<Record<keyof Faults, unknown>>): Partial<Faults> {
  const out: Partial<Faults> = {};
  const problems: string[] = [];
  for (const [key, v] of Object.entries(patch)) {
    if (!(key in NO_FAULTS)) {
      problems.push(`unknown fault ${JSON.stringify(key)} (known: ${Object.keys(NO_FAULTS).join(', ')})`);
      continue;
    }
    const k = key as keyof Faults;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || (SHARES.has(k) && n > 1)) {
      problems.push(`${k}: ${JSON.stringify(v)} is not ${SHARES.has(k) ? 'a share from 0 to 1' : 'a number ≥ 0'}`);
      continue;
    }
    out[k] = n;
  }
  if (problems.length) throw new LabError('USAGE', { message: `Invalid emulator faults: ${problems.join('; ')}` });
  return out;
}
