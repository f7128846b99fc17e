// Was the server alive when it closed a session? The engine calls a close right after an
// unacknowledged publish "rate limit suspected": that is how ThingsBoard's transport enforces its
// rate limits (it drops the session, common/transport/mqtt/.../MqttTransportHandler.java), but a
// server that dies (kill -9, crash, host lost) closes every session the same way. A rate limit
// leaves the server alive: other sessions keep publishing and getting acks after the close. With
// no such evidence the close is the server's end (`server closed`), and the reconnects that
// follow say `ECONNREFUSED`. With several MQTT endpoints each is its own server: only the close's
// own endpoint (its devices connected again) speaks for it.
import type { CauseClass, MetricsSnapshot } from './snapshot.js';
import type { DeviceRecord, TimelinePoint } from './records.js';
import { endpointOf } from '../common/endpoints.js';

/** The engine's causes (src/device/causes.ts CAUSES.closedAfterPublish / serverClosed). */
export const CLOSED_AFTER_PUBLISH = 'server closed after publish (rate limit suspected)';
export const SERVER_CLOSED = 'server closed';

/** Traffic counted from this long after a close on is evidence (a timeline point's shards may be ~1 s old). */
const AFTER_MS = 1500;
/** …up to this long after the close (at least two publish intervals). */
const WINDOW_MS = 10_000;

/** A publish this long after a close shows a session outlived it (a dead server closes every session within ms). */
const OUTLIVED_MS = 500;

export interface AliveEvidence {
  /** Run start, ms since epoch (timeline `t` is seconds from it). */
  startedAt: number;
  timeline: readonly Pick<TimelinePoint, 't' | 'sent' | 'acked' | 'connected' | 'endpointsConnected'>[];
  publishIntervalSec: number;
  /** MQTT endpoints of the run (`metrics.endpoints.length`); with two or more, each close is judged by its device's endpoint. */
  endpoints?: number;
  /** The latest publish of any device, ms (lastPublishOf): decides a close the timeline ends too soon after. */
  lastPublishAt?: number | null;
}

/** The latest `lastPublishAt` of the device records, or null. */
export function lastPublishOf(devices: Readonly<Record<string, Pick<DeviceRecord, 'lastPublishAt'>>>): number | null {
  let last: number | null = null;
  for (const d of Object.values(devices)) if (d.lastPublishAt !== null && (last === null || d.lastPublishAt > last)) last = d.lastPublishAt;
  return last;
}

/**
 * True when the server was alive after `at` (ms): between the first timeline point ≥ 1.5 s after
 * it and the last one within max(10 s, 2 intervals), `sent` or `acked` grew, or some session was
 * connected (one that survived, or a reconnect the server accepted: a tenant-wide budget can cut
 * off every publisher at once, but it still accepts their reconnects; a dead server refuses them).
 * When the run ended before two such points, a publish ≥ 0.5 s after the close decides.
 */
export function serverAliveAfter(at: number, e: AliveEvidence, deviceIndex?: number): boolean {
  const endpoint = e.endpoints && e.endpoints > 1 && deviceIndex !== undefined ? endpointOf(deviceIndex, e.endpoints) : undefined;
  const from = at + AFTER_MS,
    to = at + Math.max(WINDOW_MS, 2 * e.publishIntervalSec * 1000 + AFTER_MS);
  const points = e.timeline.filter((p) => {
    const ms = e.startedAt + p.t * 1000;
    return ms >= from && ms <= to;
  });
  // several endpoints: traffic of the others says nothing about this one, its own connections do
  if (endpoint !== undefined && points.length && points.every((p) => p.endpointsConnected))
    return points.some((p) => p.endpointsConnected![endpoint] > 0);
  if (points.some((p) => p.connected > 0)) return true;
  // the run ended before the timeline could tell (a close in its last second): a device that still
  // published well after the close had a session the server kept open, or a reconnect it accepted
  if (points.length < 2) return e.lastPublishAt != null && e.lastPublishAt >= at + OUTLIVED_MS;
  const a = points[0],
    b = points[points.length - 1];
  return b.sent > a.sent || b.acked > a.acked;
}

/**
 * The report's view of the closes: "rate limit suspected" without evidence that the server was
 * alive becomes `server closed` (class server), in the device records and in the totals by cause
 * and class (moved by the number of records changed), and in the collapse's dominant cause.
 */
export function reattributeDeadServer(
  devices: Record<string, DeviceRecord>,
  metrics: MetricsSnapshot,
  e: AliveEvidence,
): { devices: Record<string, DeviceRecord>; metrics: MetricsSnapshot; moved: number } {
  const ends = metrics.endpoints ?? []; // absent in metrics schema 1
  const k = ends.length;
  const movedAt = new Array<number>(Math.max(1, k)).fill(0);
  let moved = 0;
  const out: Record<string, DeviceRecord> = {};
  for (const [name, d] of Object.entries(devices)) {
    const endpoint = k > 1 ? endpointOf(d.index, k) : undefined;
    const deadAt = (x: DeviceRecord['disconnects'][number]) =>
      x.cause === CLOSED_AFTER_PUBLISH && !serverAliveAfter(x.at, { endpoints: k, ...e }, d.index);
    if (!d.disconnects.some(deadAt)) {
      out[name] = d;
      continue;
    }
    out[name] = {
      ...d,
      disconnects: d.disconnects.map((x) => {
        if (!deadAt(x)) return x;
        moved++;
        movedAt[endpoint ?? 0]++;
        return { ...x, cause: SERVER_CLOSED, class: 'server' as CauseClass };
      }),
    };
  }
  if (moved === 0) return { devices, metrics, moved };
  const c = metrics.collapse;
  const collapse = c?.dominantCause === CLOSED_AFTER_PUBLISH ? { ...c, dominantCause: SERVER_CLOSED } : c;
  return {
    devices: out,
    metrics: {
      ...metrics,
      disconnects: moveCauses(metrics.disconnects, moved),
      ...(k ? { endpoints: ends.map((x, i) => ({ ...x, disconnects: moveCauses(x.disconnects, k > 1 ? movedAt[i] : moved) })) } : {}),
      collapse,
    },
    moved,
  };
}

/** `n` closes (at most those counted) move from "rate limit suspected" to `server closed`, by cause and by class. */
function moveCauses<T extends MetricsSnapshot['disconnects']>(d: T, moved: number): T {
  const byCause = { ...d.byCause };
  const byClass = { ...d.byClass };
  const n = Math.min(moved, byCause[CLOSED_AFTER_PUBLISH] ?? 0);
  if (n === 0) return d;
  byCause[CLOSED_AFTER_PUBLISH] = (byCause[CLOSED_AFTER_PUBLISH] ?? 0) - n;
  if (!byCause[CLOSED_AFTER_PUBLISH]) delete byCause[CLOSED_AFTER_PUBLISH];
  byCause[SERVER_CLOSED] = (byCause[SERVER_CLOSED] ?? 0) + n;
  byClass['rate-limit'] = (byClass['rate-limit'] ?? 0) - n;
  if (!byClass['rate-limit']) delete byClass['rate-limit'];
  byClass.server = (byClass.server ?? 0) + n;
  return { ...d, byCause, byClass };
}
