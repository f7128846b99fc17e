// The snapshot's `topDevices`: the devices with the most publishes, then those with failures or
// disconnects, read straight from the shards' per-device rows.
import type { DeviceRow } from '../metrics/snapshot.js';
import { D, D_FIELDS, FLAG_CONNECTED, FLAG_PAUSED } from './counters.js';

/** What it reads of a shard: device names and their rows of D_FIELDS numbers. */
interface Rows {
  names: string[];
  rows: Float64Array;
}

function row(v: Rows, i: number): DeviceRow {
  const r = i * D_FIELDS;
  const flags = v.rows[r + D.FLAGS];
  return {
    name: v.names[i],
    connected: (flags & FLAG_CONNECTED) !== 0,
    paused: (flags & FLAG_PAUSED) !== 0,
    sent: v.rows[r + D.SENT],
    acked: v.rows[r + D.ACKED],
    failed: v.rows[r + D.FAILED],
    disconnects: v.rows[r + D.DISCONNECTS],
  };
}

/** Top devices by sent, then devices with failures or disconnects (each list bounded by `limit`). */
export function topDevices(shards: readonly Rows[], limit: number): DeviceRow[] {
  const top: Array<[number, Rows, number]> = [];
  const troubled: Array<[Rows, number]> = [];
  for (const v of shards) {
    for (let i = 0; i < v.names.length; i++) {
      const r = i * D_FIELDS;
      const sent = v.rows[r + D.SENT];
      if (top.length < limit || sent > top[top.length - 1][0]) {
        let k = top.length < limit ? top.length : top.length - 1;
        while (k > 0 && top[k - 1][0] < sent) k--;
        top.splice(k, 0, [sent, v, i]);
        if (top.length > limit) top.pop();
      }
      if (troubled.length < limit && (v.rows[r + D.FAILED] > 0 || v.rows[r + D.DISCONNECTS] > 0)) troubled.push([v, i]);
    }
  }
  const seen = new Set<string>();
  const out: DeviceRow[] = [];
  for (const [v, i] of [...top.map(([, v, i]) => [v, i] as [Rows, number]), ...troubled]) {
    if (seen.has(v.names[i])) continue;
    seen.add(v.names[i]);
    out.push(row(v, i));
  }
  return out;
}
