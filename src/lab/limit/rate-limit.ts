// A step's rate limit, named from the lab's rate-limit attribution (src/lab/delivery/rate-limit.ts):
// which ThingsBoard transport setting it looks like, and its value estimated from what got through.
// ThingsBoard's buckets start full (Bucket4j, `cap:sec`): until the first refusal a step gets the
// whole bucket on top of the refill, so the rate accepted over a whole step overshoots the setting.
// Once a refusal has shown the bucket empty, what is acknowledged per second is the refill itself:
// that is the estimate whenever the step has enough seconds after its first refusal.
import type { RateLimitSection } from '../delivery/rate-limit.js';
import type { SeriesPoint } from '../../metrics/snapshot.js';
import type { LimitStep, StepMeasurement } from './types.js';

/** Seconds after the first refusal before the acknowledged rate is the refill (a series point may be ~1 s old). */
const AFTER_REFUSAL_MS = 2000;
/** Fewest one-second points after the first refusal for the refill estimate. */
const MIN_SECONDS = 2;

type StepRateLimit = NonNullable<StepMeasurement['rateLimit']>;

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: n < 10 ? 2 : 0 });

/**
 * The acknowledged msg/s from 2 s after the first refusal to the end of the hold (points still
 * sending at least half the peak), or null with fewer than MIN_SECONDS such points or no acks (QoS 0).
 */
export function refillRate(
  series: readonly Pick<SeriesPoint, 'ts' | 'sentPerSec' | 'ackedPerSec'>[],
  firstAt: number | null,
): { perSec: number; seconds: number } | null {
  if (firstAt === null) return null;
  const peak = Math.max(0, ...series.map((p) => p.sentPerSec));
  const after = series.filter((p) => p.ts >= firstAt + AFTER_REFUSAL_MS && p.sentPerSec >= peak / 2);
  if (after.length < MIN_SECONDS) return null;
  const perSec = after.reduce((a, p) => a + p.ackedPerSec, 0) / after.length;
  return perSec > 0 ? { perSec: Math.round(perSec * 10) / 10, seconds: after.length } : null;
}

/**
 * `acceptedPerSec`: messages per second the server accepted during the step (stored, or
 * acknowledged); `series`: the step run's one-second points. A tenant limit's value is the refill
 * rate after the first refusal when the step has it, else what got through over the whole step (an
 * upper bound). A per-device limit's value is what got through per device.
 */
export function rateLimitOfStep(
  section: RateLimitSection | null | undefined,
  acceptedPerSec: number,
  devices: number,
  series: readonly Pick<SeriesPoint, 'ts' | 'sentPerSec' | 'ackedPerSec'>[] = [],
): StepMeasurement['rateLimit'] {
  if (!section || (section.count ?? section.events.length) === 0 || !section.pattern) return null;
  if (section.pattern.startsWith('per device')) {
    return { name: 'transportDeviceMsgRateLimit', value: `≈ ${fmt(acceptedPerSec / Math.max(devices, 1))} msg/s per device` };
  }
  const refill = refillRate(series, section.firstAt);
  if (refill) {
    return {
      name: 'transportTenantMsgRateLimit',
      value: `≈ ${fmt(refill.perSec)} msg/s`,
      perSec: refill.perSec,
      basis: `acknowledged msg/s over ${refill.seconds} s after the first refusal (the bucket's refill)`,
      refillSec: refill.seconds,
    };
  }
  return {
    name: 'transportTenantMsgRateLimit',
    value: `≈ ${fmt(acceptedPerSec)} msg/s`,
    perSec: Math.round(acceptedPerSec * 10) / 10,
    basis: 'msg/s accepted over the whole step: an upper bound, the bucket started full',
  };
}

const seconds = (r: StepRateLimit) => r.refillSec ?? 0;

/**
 * The verdict's rate limit: the step that broke names it; its value is that step's refill estimate,
 * else the refill estimate of the failed step (same limit) with the most seconds after its first
 * refusal — a step just above the limit empties the bucket only near the end of its hold.
 */
export function bestRateLimit(broke: LimitStep | null, steps: readonly LimitStep[]): LimitStep['measurement']['rateLimit'] {
  const named = broke?.measurement.rateLimit ?? null;
  if (!named || seconds(named) > 0) return named;
  const better = steps
    .filter((s) => !s.retried && !s.passed && s.measurement.rateLimit?.name === named.name && seconds(s.measurement.rateLimit) > 0)
    .map((s) => s.measurement.rateLimit!)
    .sort((a, b) => seconds(b) - seconds(a))[0];
  return better ? { ...better, basis: `${better.basis}, at a higher step` } : named;
}
