// Which device rows a shard snapshot carries, and how the supervisor copies them into its table.
// Rows whose state or errors changed ship whole (layout D, D_FIELDS numbers); rows whose only change
// is traffic ship only their traffic fields (layout T, T_FIELDS numbers: a third of a row). Every
// device that publishes changes its traffic, so at 100,000 devices the traffic rounds were 17.6 MB
// of whole rows per 5 s on the shards' pipes; as traffic fields they are 5.6 MB
// (bench/supervisor-scale.ts, docs/scaling.md#supervisor-costs-at-scale).
import { D, D_FIELDS } from './counters.js';
import { JSON_BLOCK } from './device-records.js';
import { STATE, TRAFFIC } from './states.js';

/** The fields of a row that traffic moves (publisher.ts, tallies.ts), in the order of layout T. */
export const T_LAYOUT = [D.SENT, D.ACKED, D.FAILED, D.SKIPPED, D.FIRST_PUB, D.LAST_PUB, D.LAST_SEQ] as const;
export const T_FIELDS = T_LAYOUT.length;

/** Rows of one snapshot: `changed` whole (layout D), `traffic` as their traffic fields (layout T). */
export interface ShippedRows {
  changed: { idx: Int32Array; rows: Float64Array };
  traffic?: { idx: Int32Array; rows: Float64Array };
}

/**
 * The rows due in a snapshot, their dirty bits cleared: rows with STATE set whole; with
 * `withTraffic`, also the rows with only TRAFFIC set, as traffic fields.
 */
export function shipRows(dev: Float64Array, dirty: Uint8Array, n: number, withTraffic: boolean): Required<ShippedRows> {
  let nWhole = 0,
    nTraffic = 0;
  for (let i = 0; i < n; i++) {
    if (dirty[i] & STATE) nWhole++;
    else if (withTraffic && dirty[i] & TRAFFIC) nTraffic++;
  }
  const changed = { idx: new Int32Array(nWhole), rows: new Float64Array(nWhole * D_FIELDS) };
  const traffic = { idx: new Int32Array(nTraffic), rows: new Float64Array(nTraffic * T_FIELDS) };
  for (let i = 0, w = 0, t = 0; i < n; i++) {
    const bits = dirty[i];
    if (bits & STATE) {
      changed.idx[w] = i;
      changed.rows.set(dev.subarray(i * D_FIELDS, (i + 1) * D_FIELDS), w * D_FIELDS);
      w++;
      dirty[i] = 0;
    } else if (withTraffic && bits & TRAFFIC) {
      traffic.idx[t] = i;
      for (let f = 0; f < T_FIELDS; f++) traffic.rows[t * T_FIELDS + f] = dev[i * D_FIELDS + T_LAYOUT[f]];
      t++;
      dirty[i] = 0;
    }
  }
  return { changed, traffic };
}

/** What the rows are copied into: a shard's device table and its stale JSON blocks. */
export interface RowTable {
  rows: Float64Array;
  stale: Uint8Array;
}

/** Copies a snapshot's rows into the table (their JSON goes stale); returns their earliest first publish (0 = none). */
export function applyRows(v: RowTable, shipped: ShippedRows): number {
  let earliest = 0;
  const seen = (first: number) => {
    if (first > 0 && (earliest === 0 || first < earliest)) earliest = first;
  };
  const { idx, rows } = shipped.changed;
  for (let k = 0; k < idx.length; k++) {
    seen(rows[k * D_FIELDS + D.FIRST_PUB]);
    v.rows.set(rows.subarray(k * D_FIELDS, (k + 1) * D_FIELDS), idx[k] * D_FIELDS);
    v.stale[Math.floor(idx[k] / JSON_BLOCK)] = 1;
  }
  if (!shipped.traffic) return earliest;
  const t = shipped.traffic;
  for (let k = 0; k < t.idx.length; k++) {
    const at = t.idx[k] * D_FIELDS;
    for (let f = 0; f < T_FIELDS; f++) v.rows[at + T_LAYOUT[f]] = t.rows[k * T_FIELDS + f];
    seen(v.rows[at + D.FIRST_PUB]);
    v.stale[Math.floor(t.idx[k] / JSON_BLOCK)] = 1;
  }
  return earliest;
}
