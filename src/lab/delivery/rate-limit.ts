// Rate-limit attribution: which closes were probably ThingsBoard's transport rate limits (the
// engine's `rate-limit` class: a server close right after an unacknowledged publish, or an MQTT 5
// reason), plus REST 429s, and the pattern — per device or tenant-wide, and when it started.
import type { DeliveryReport, DeviceRecord, DisconnectRecord, RateLimitEvent } from '../../report/schema.js';
import { CLOSED_AFTER_PUBLISH, serverAliveAfter, type AliveEvidence } from '../../metrics/attribution.js';

export interface RateLimitInput {
  devices: Record<string, DeviceRecord>;
  /** Publish interval, s. */
  intervalSec: number;
  /** Highest total publish rate of the run, msg/s. */
  peakSentPerSec: number;
  /** HTTP 429 answers during the read-back, and when the first came (ms, null = none). */
  rest429: { count: number; firstAt: number | null };
  /** With --embedded: messages the emulator refused per device. */
  emulatorRefused?: Map<string, number>;
  /**
   * The run's timeline: a close right after a publish counts only when sessions were still sending
   * or acknowledged after it (a dead server closes every session the same way). Absent: every such close counts.
   */
  alive?: AliveEvidence;
}

export type RateLimitSection = NonNullable<DeliveryReport['rateLimit']>;

/** Most events listed in the report (the count goes on). */
const EVENTS_LIMIT = 1000;

function evidence(d: DisconnectRecord, alive: AliveEvidence | undefined, deviceIndex: number): string | null {
  if (d.cause.includes('(0x83)')) return `${d.cause}: ThingsBoard closes MQTT 5 sessions with 0x83 when a transport rate limit is hit`;
  // the heuristic close needs a server that was alive afterwards; a reason code is the server's own word
  if (d.cause === CLOSED_AFTER_PUBLISH && alive && !serverAliveAfter(d.at, alive, deviceIndex)) return null;
  if (d.class === 'rate-limit') return d.cause;
  return null;
}

/** The most common value and how many values lie within ±1 of it. */
function mode(xs: number[]): { value: number; near: number } {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  let value = xs[0];
  for (const [v, c] of counts) if (c > counts.get(value)!) value = v;
  return { value, near: xs.filter((x) => Math.abs(x - value) <= 1).length };
}
const iso = (ms: number) => new Date(ms).toISOString();

export function attributeRateLimits(i: RateLimitInput): RateLimitSection {
  const events: RateLimitEvent[] = [];
  const firstByDevice = new Map<string, number>();
  for (const [name, rec] of Object.entries(i.devices)) {
    for (const d of rec.disconnects) {
      const ev = evidence(d, i.alive, rec.index);
      if (!ev) continue;
      events.push({ device: name, at: d.at, evidence: ev });
      if (!firstByDevice.has(name) || d.at < firstByDevice.get(name)!) firstByDevice.set(name, d.at);
    }
  }
  if (i.rest429.count > 0)
    events.push({
      device: '(REST API)',
      at: i.rest429.firstAt ?? Date.now(),
      evidence: `${i.rest429.count} answers HTTP 429 (errorCode 33, "Too many requests for current tenant!") while reading back`,
    });
  events.sort((a, b) => a.at - b.at);
  const devices = [...firstByDevice.keys()].sort((a, b) => firstByDevice.get(a)! - firstByDevice.get(b)!);
  const section: RateLimitSection = {
    events: events.slice(0, EVENTS_LIMIT),
    pattern: null,
    firstAt: events[0]?.at ?? null,
    advice: null,
    devices,
    count: events.length,
  };
  const notes: string[] = [];
  const advice: string[] = [];
  if (devices.length > 0) {
    const fleet = Object.keys(i.devices).length;
    // how many messages each device got through before its first cut-off
    const budgets = devices.map((n) => {
      const rec = i.devices[n];
      return rec.firstPublishAt === null ? 0 : Math.round((firstByDevice.get(n)! - rec.firstPublishAt) / (i.intervalSec * 1000)) + 1;
    });
    const lo = Math.min(...budgets),
      hi = Math.max(...budgets),
      m = mode(budgets);
    const start = Math.min(...devices.map((n) => firstByDevice.get(n)!));
    const publishing = Object.values(i.devices).filter((r) => r.sent > 0).length;
    const share = `${devices.length} of ${fleet} devices`;
    // Every device publishes at the same rate: a per-device budget cuts (nearly) all of them off
    // after the same number of messages; a shared tenant budget cuts off whoever publishes when it
    // is empty. Budgets come from times, so schedule lag blurs them: compare with the mode ±1.
    const perDevice = devices.length >= 0.9 * publishing && m.near >= 0.6 * devices.length;
    if (perDevice) {
      notes.push(
        `per device: ${share} were cut off, ${m.near} of them after ${m.value}±1 message(s) (all: ${lo}–${hi}), starting ${iso(start)}: every device has its own budget`,
      );
      advice.push(
        `Check the tenant profile's per-device transport limits (transportDeviceMsgRateLimit, transportDeviceTelemetryMsgRateLimit, transportDeviceTelemetryDataPointsRateLimit; format cap:sec,…): each device sent ${Math.round(1000 / i.intervalSec) / 1000} msg/s.`,
      );
    } else {
      notes.push(
        `tenant-wide: ${share} were cut off after very different numbers of messages (${lo}–${hi}), from ${iso(start)} on: a budget shared by the whole tenant`,
      );
      advice.push(
        `Check the tenant profile's tenant transport limits (transportTenantMsgRateLimit, transportTenantTelemetryMsgRateLimit, transportTenantTelemetryDataPointsRateLimit; format cap:sec,…): the lab sent up to ${Math.round(i.peakSentPerSec)} msg/s in total.`,
      );
    }
  }
  if (i.rest429.count > 0)
    advice.push("REST 429s: the tenant profile's tenantServerRestLimitsConfiguration; lower DELIVERY_CONCURRENCY or DELIVERY_SAMPLE.");
  if (i.emulatorRefused) {
    const refused = [...i.emulatorRefused].filter(([, n]) => n > 0);
    if (refused.length)
      notes.push(
        `the emulator confirms: ${refused.reduce((a, [, n]) => a + n, 0)} message(s) refused by a transport rate limit on ${refused.length} device(s)`,
      );
  }
  section.pattern = notes.length ? notes.join('; ') : null;
  section.advice = advice.length ? advice.join(' ') : null;
  return section;
}
