// Did the lab produce the step? A generator that sent clearly less than its schedule asked, while it
// was itself behind (schedule lag or a saturated shard: generator verdict not `ok`) and the server
// was not what held it back (at QoS 1, in-flight windows not filling; sessions not cut), could not produce the load:
// the step says nothing about the server. Without this, a starved shard's step would "pass" at the
// rate asked while far less was sent.
import { INFLIGHT_WINDOW } from '../../engine/inflight.js';
import type { MetricsSnapshot } from '../../metrics/snapshot.js';

/** A step that sent less than this share of its schedule is not the load asked. */
export const PRODUCED_MIN = 0.9;
/** In-flight windows this full (share of devices × INFLIGHT_WINDOW) mean the server held the sends back. */
const HELD_BACK = 0.5;
/** More disconnects during the hold than this share of the devices: the server cut sessions (rate limits, drops). */
const STABLE_SESSIONS = 0.01;

export interface ProducedInput {
  metrics: Pick<MetricsSnapshot, 'target' | 'generator'>;
  /** Msg/s sent over the hold, and the devices connected at its end. */
  sentPerSec: number;
  devices: number;
  /** QoS 1 in-flight at the end of the hold (null at QoS 0). */
  inFlightEnd: number | null;
  /** Disconnects during the hold: sessions the server closed leave the schedule short, not the lab. */
  disconnects: number;
}

/** The schedule's msg/s (connected devices ÷ interval), what was sent, and whether the lab fell short of it. */
export function generatorShortOf(i: ProducedInput): { scheduledPerSec: number; short: boolean } {
  const interval = i.metrics.target.publishIntervalSec;
  const scheduledPerSec = interval > 0 ? i.devices / interval : 0;
  const behind = i.metrics.generator.verdict !== 'ok';
  const heldBack =
    (i.inFlightEnd !== null && i.inFlightEnd >= HELD_BACK * i.devices * INFLIGHT_WINDOW) || i.disconnects > STABLE_SESSIONS * i.devices;
  const short = scheduledPerSec > 0 && i.sentPerSec < PRODUCED_MIN * scheduledPerSec && behind && !heldBack;
  return { scheduledPerSec, short };
}
