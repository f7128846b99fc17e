// ThingsBoard's rate-limit spec (`cap:sec,cap:sec`) and the token bucket behind it: every
// bandwidth refills greedily (continuously), and a request passes only if all of them have room.
import { LabError } from '../common/errors.js';

export interface Bandwidth {
  /** Tokens the bucket holds when full. */
  capacity: number;
  /** Seconds to refill `capacity` tokens. */
  periodSec: number;
}

/** Parses `100:1,2000:60`; empty/undefined → no limit (null). Throws USAGE naming `what` on bad input. */
export function parseRateLimit(spec: string | undefined | null, what = 'rate limit'): Bandwidth[] | null {
  if (spec === undefined || spec === null || spec.trim() === '') return null;
  return spec.split(',').map((part) => {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
      throw new LabError('USAGE', {
        message: `${what}: ${JSON.stringify(spec)} is not a ThingsBoard rate limit`,
        hint: 'Use capacity:seconds pairs separated by commas, e.g. 20:1,600:60 (at most 20 per second and 600 per minute).',
      });
    }
    return { capacity: Number(m[1]), periodSec: Number(m[2]) };
  });
}

/** Multi-bandwidth token bucket (Bucket4j-style greedy refill). */
export class TokenBucket {
  private readonly tokens: number[];
  private last: number;

  constructor(
    readonly bandwidths: readonly Bandwidth[],
    now = Date.now(),
  ) {
    this.tokens = bandwidths.map((b) => b.capacity);
    this.last = now;
  }

  /** Takes `n` tokens from every bandwidth if all have them; false (nothing taken) otherwise. */
  tryConsume(n: number, now = Date.now()): boolean {
    const dt = now - this.last;
    this.last = now;
    const bws = this.bandwidths;
    let ok = true;
    for (let i = 0; i < bws.length; i++) {
      const b = bws[i];
      if (dt > 0) this.tokens[i] = Math.min(b.capacity, this.tokens[i] + (dt * b.capacity) / (b.periodSec * 1000));
      if (this.tokens[i] < n) ok = false;
    }
    if (ok) for (let i = 0; i < bws.length; i++) this.tokens[i] -= n;
    return ok;
  }
}

/** One bucket per key (device id), created on first use. */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(readonly bandwidths: readonly Bandwidth[]) {}

  tryConsume(key: string, n: number, now: number): boolean {
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = new TokenBucket(this.bandwidths, now)));
    return b.tryConsume(n, now);
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}

export interface TransportLimitSpecs {
  /** Messages per device (`transportDeviceMsgRateLimit`), e.g. `20:1,600:60`; null = unlimited. */
  device?: string | null;
  /** Messages per tenant (`transportTenantMsgRateLimit`), e.g. `1000:1,20000:60`. */
  tenant?: string | null;
  /** Telemetry data points per device (`transportDeviceTelemetryDataPointsRateLimit`). */
  deviceDataPoints?: string | null;
  /** Telemetry data points per tenant (`transportTenantTelemetryDataPointsRateLimit`). */
  tenantDataPoints?: string | null;
}

/** ThingsBoard's transport limits: tenant first, then device; messages, then data points. */
export class TransportLimiter {
  private device: KeyedBuckets | null = null;
  private tenant: TokenBucket | null = null;
  private deviceDp: KeyedBuckets | null = null;
  private tenantDp: TokenBucket | null = null;
  specs: TransportLimitSpecs = {};

  /** `clock`: the time the checks are given (the emulator's clock), so tenant buckets start on it too. */
  constructor(private readonly clock: () => number = Date.now) {}

  configure(specs: TransportLimitSpecs): void {
    const dev = parseRateLimit(specs.device, 'device rate limit');
    const ten = parseRateLimit(specs.tenant, 'tenant rate limit');
    const devDp = parseRateLimit(specs.deviceDataPoints, 'device data-point rate limit');
    const tenDp = parseRateLimit(specs.tenantDataPoints, 'tenant data-point rate limit');
    this.device = dev && new KeyedBuckets(dev);
    this.tenant = ten && new TokenBucket(ten, this.clock());
    this.deviceDp = devDp && new KeyedBuckets(devDp);
    this.tenantDp = tenDp && new TokenBucket(tenDp, this.clock());
    this.specs = { ...specs };
  }

  get active(): boolean {
    return !!(this.device || this.tenant || this.deviceDp || this.tenantDp);
  }

  /** Admits one message carrying `points` data points (0 for attributes); returns the limit hit, or null. */
  check(deviceId: string, points: number, now: number): 'tenant' | 'device' | null {
    if (this.tenant && !this.tenant.tryConsume(1, now)) return 'tenant';
    if (this.device && !this.device.tryConsume(deviceId, 1, now)) return 'device';
    if (points > 0) {
      if (this.tenantDp && !this.tenantDp.tryConsume(points, now)) return 'tenant';
      if (this.deviceDp && !this.deviceDp.tryConsume(deviceId, points, now)) return 'device';
    }
    return null;
  }

  forget(deviceId: string): void {
    this.device?.forget(deviceId);
    this.deviceDp?.forget(deviceId);
  }
}
