// Device claiming as ThingsBoard's ClaimDevicesServiceImpl does it: the device registers a secret key for a
// while (MQTT `v1/devices/me/claim`, HTTP `POST /api/v1/{token}/claim`), a customer user claims the device by
// name with that key, and the device then belongs to the user's customer; a reclaim releases it.
// Imitated with `security.claim.allowClaimingByDefault = true` (ThingsBoard's default): the server-side
// `claimingAllowed` attribute is neither needed nor read, and claiming data lives only in the claim cache.
import type { Device } from './model.js';

/** ClaimResponse. */
export type ClaimResponse = 'SUCCESS' | 'FAILURE' | 'CLAIMED';

/** `security.claim.duration` (SECURITY_CLAIM_DURATION): a registration with no positive durationMs lasts this long, ms. */
export const DEFAULT_CLAIM_DURATION_MS = 86400000;

/** DataConstants.DEFAULT_SECRET_KEY: a claim without `secretKey` registers (or presents) the empty key. */
const DEFAULT_SECRET_KEY = '';

interface ClaimData {
  secretKey: string;
  expirationTime: number;
}

export interface ClaimCounters {
  /** Registrations a device sent (MQTT or HTTP), and those kept (unassigned device, none pending). */
  registrations: number;
  registered: number;
  /** Claim calls by ClaimResponse. */
  success: number;
  failure: number;
  claimed: number;
  reclaims: number;
}

/**
 * JsonConverter.convertToClaimDeviceProto: an empty payload registers the default key with the system duration;
 * otherwise the payload must be a JSON object (`secretKey` read as a string, `durationMs` as a long).
 * Throws on anything else (the transport's adaptor error).
 */
export function parseClaimPayload(payload: string): { secretKey: string; durationMs: number } {
  if (payload === '') return { secretKey: DEFAULT_SECRET_KEY, durationMs: 0 };
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    // the parser's message quotes the input, which holds the secret key: not echoed
    throw new Error('Invalid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error("Can't parse value: not a JSON object");
  const o = v as Record<string, unknown>;
  const scalar = (x: unknown) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  if ('secretKey' in o && !scalar(o.secretKey)) throw new Error('secretKey is not a primitive');
  const durationMs = 'durationMs' in o ? Math.trunc(Number(o.durationMs)) : 0;
  if (!Number.isFinite(durationMs)) throw new Error('durationMs is not a number');
  return { secretKey: 'secretKey' in o ? String(o.secretKey) : DEFAULT_SECRET_KEY, durationMs };
}

export class Claims {
  /** The claim-devices cache, by device id. */
  private readonly cache = new Map<string, ClaimData>();
  readonly counters: ClaimCounters = { registrations: 0, registered: 0, success: 0, failure: 0, claimed: 0, reclaims: 0 };

  constructor(private readonly clock: () => number) {}

  /**
   * registerClaimingInfo: kept only for a device without a customer, and only when nothing is pending
   * (`cache.putIfAbsent`: a second registration does not replace the first). Returns whether it was kept;
   * the device is acknowledged either way (the transport's callback fires once the message is queued).
   */
  register(d: Device, secretKey: string, durationMs: number): boolean {
    this.counters.registrations++;
    if (d.customerId !== undefined || this.cache.has(d.id)) return false;
    const ms = durationMs > 0 ? durationMs : DEFAULT_CLAIM_DURATION_MS;
    this.cache.set(d.id, { secretKey, expirationTime: this.clock() + ms });
    this.counters.registered++;
    return true;
  }

  /**
   * claimDevice: no pending registration → FAILURE (CLAIMED if the device already has a customer); expired or a
   * wrong key → FAILURE and the registration is dropped; otherwise the device goes to `customerId` (SUCCESS), or
   * CLAIMED when it already had one.
   */
  claim(d: Device, customerId: string, secretKey: string): ClaimResponse {
    const data = this.cache.get(d.id);
    let r: ClaimResponse;
    if (!data) r = d.customerId === undefined ? 'FAILURE' : 'CLAIMED';
    else if (this.clock() > data.expirationTime || !keysMatch(secretKey, data.secretKey)) {
      this.cache.delete(d.id);
      r = 'FAILURE';
    } else {
      this.cache.delete(d.id);
      r = d.customerId === undefined ? 'SUCCESS' : 'CLAIMED';
      if (r === 'SUCCESS') {
        d.customerId = customerId;
        d.version++;
      }
    }
    this.counters[r === 'SUCCESS' ? 'success' : r === 'FAILURE' ? 'failure' : 'claimed']++;
    return r;
  }

  /** reClaimDevice: the device loses its customer and any pending registration. */
  reclaim(d: Device): void {
    this.counters.reclaims++;
    this.cache.delete(d.id);
    if (d.customerId === undefined) return;
    delete d.customerId;
    d.version++;
  }

  /** A deleted device's registration goes with it. */
  forget(deviceId: string): void {
    this.cache.delete(deviceId);
  }
}

/** secretKeyIsEmptyOrEqual. */
function keysMatch(a: string, b: string): boolean {
  return (a === '' && b === '') || a === b;
}
