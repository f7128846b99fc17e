// A step's rate limit, named from the lab's rate-limit attribution (src/lab/delivery/rate-limit.ts):
// which ThingsBoard transport setting it looks like, and its value estimated from what got through.
import type { RateLimitSection } from '../delivery/rate-limit.js';
import type { StepMeasurement } from './types.js';

/**
 * `acceptedPerSec`: messages per second the server accepted during the step (stored, or
 * acknowledged); a limit lets through about its own rate, so that is the estimate of its value.
 */
export function rateLimitOfStep(
  section: RateLimitSection | null | undefined,
  acceptedPerSec: number,
  devices: number,
): StepMeasurement['rateLimit'] {
  if (!section || (section.count ?? section.events.length) === 0 || !section.pattern) return null;
  const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: n < 10 ? 2 : 0 });
  if (section.pattern.startsWith('per device')) {
    return { name: 'transportDeviceMsgRateLimit', value: `≈ ${fmt(acceptedPerSec / Math.max(devices, 1))} msg/s per device` };
  }
  return { name: 'transportTenantMsgRateLimit', value: `≈ ${fmt(acceptedPerSec)} msg/s` };
}
