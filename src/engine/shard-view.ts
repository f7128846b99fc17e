// What the supervisor keeps of each shard between snapshots (its counters, device rows, per-second
// histograms and rates), and the sums over device rows that make a crashed shard's totals agree with
// its devices' records. Apart from aggregate.ts so the aggregator reads as the merge of one second.
import { createHistogram, type Histogram } from '../metrics/hdr.js';
import type { CauseClass, ShardStatus } from '../metrics/snapshot.js';
import { C, C_FIELDS, D, D_FIELDS, FLAG_CONNECTED } from './counters.js';
import { JSON_BLOCK, type DeviceRows } from './device-records.js';
import { ShardRates } from './rates.js';
import type { DisconnectEvent } from './protocol.js';

/** The snapshot rows' copy into a view lives with their selection (row-ship.ts). */
export { applyRows } from './row-ship.js';

/** Disconnect history kept per device in the report (most recent). */
const MAX_DISCONNECTS_PER_DEVICE = 50;

export interface ShardView extends DeviceRows {
  status: ShardStatus;
  counters: Float64Array;
  byOutcome: Record<string, number>;
  byCause: Record<string, number>;
  byClass: Partial<Record<CauseClass, number>>;
  errorsByKind: Record<string, number>;
  eventLoopP99Ms: number | null;
  cpuPercent: number;
  rssMB: number;
  /** this second's histograms */
  secAck: Histogram;
  secLag: Histogram;
  rates: ShardRates;
}

export function newShardView(s: { id: number; names: string[]; indices: number[] }, startedAt: number): ShardView {
  return {
    status: { id: s.id, pid: null, state: 'starting', devices: s.names.length, connected: 0 },
    names: s.names,
    indices: s.indices,
    counters: new Float64Array(C_FIELDS),
    rows: new Float64Array(s.names.length * D_FIELDS),
    byOutcome: {},
    byCause: {},
    byClass: {},
    errorsByKind: {},
    disconnects: new Map(),
    stale: new Uint8Array(Math.ceil(s.names.length / JSON_BLOCK)).fill(1),
    json: new Array<Buffer>(Math.ceil(s.names.length / JSON_BLOCK)),
    eventLoopP99Ms: null,
    cpuPercent: 0,
    rssMB: 0,
    secAck: createHistogram(),
    secLag: createHistogram(),
    rates: new ShardRates(startedAt),
  };
}

/** Adds a snapshot's disconnect records to their devices' histories (the most recent kept) and marks their JSON stale. */
export function recordDisconnects(v: ShardView, events: readonly DisconnectEvent[]): void {
  for (const d of events) {
    v.stale[Math.floor(d.i / JSON_BLOCK)] = 1;
    let list = v.disconnects.get(d.i);
    if (!list) v.disconnects.set(d.i, (list = []));
    list.push({ at: d.at, cause: d.cause, class: d.class });
    if (list.length > MAX_DISCONNECTS_PER_DEVICE) list.shift();
  }
}

/** Sent, acked, failed and skipped summed over the device rows of `views`. */
export function rowTotals(views: readonly ShardView[], qos: number): RowTotals {
  const out: RowTotals = { sent: 0, acked: 0, failed: 0, skipped: 0, unacked: 0 };
  for (const v of views) {
    for (let r = 0; r < v.rows.length; r += D_FIELDS) {
      out.sent += v.rows[r + D.SENT];
      out.acked += v.rows[r + D.ACKED];
      out.failed += v.rows[r + D.FAILED];
      out.skipped += v.rows[r + D.SKIPPED];
    }
  }
  out.unacked = qos === 1 ? out.sent - out.acked - out.failed : 0;
  return out;
}

/**
 * A shard ended without its final snapshot. Its device rows carry traffic only every few snapshots
 * (shard.ts TRAFFIC_ROWS_EVERY), so its counters ran ahead of them: its counters become the sums of
 * its rows (the totals then equal the sum of the devices' records), its devices are no longer
 * connected, and what its counters had beyond the rows is returned for a note.
 */
export function settleCrashed(v: ShardView, qos: number): RowTotals {
  const rows = rowTotals([v], qos);
  const c = Float64Array.from(v.counters);
  const ahead: RowTotals = {
    sent: c[C.SENT] - rows.sent,
    acked: c[C.ACKED] - rows.acked,
    failed: c[C.FAILED] - rows.failed,
    skipped: c[C.SKIPPED] - rows.skipped,
    unacked: rows.unacked,
  };
  c[C.SENT] = rows.sent;
  c[C.ACKED] = rows.acked;
  c[C.FAILED] = rows.failed;
  c[C.SKIPPED] = rows.skipped;
  c[C.CONNECTED] = 0;
  c[C.IN_FLIGHT] = 0;
  c[C.FAILED_DEVICES] = c[C.WANTED];
  v.counters = c;
  for (let r = 0; r < v.rows.length; r += D_FIELDS) v.rows[r + D.FLAGS] = v.rows[r + D.FLAGS] & ~FLAG_CONNECTED;
  v.stale.fill(1);
  return ahead;
}

export interface RowTotals {
  sent: number;
  acked: number;
  failed: number;
  skipped: number;
  /** QoS 1: sent − acked − failed, publishes still waiting for a PUBACK at the last record (0 at QoS 0). */
  unacked: number;
}
