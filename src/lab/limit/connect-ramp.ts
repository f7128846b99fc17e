// The connect rate a step reached (`--vary connect-rate`), from the run's per-device records: the
// devices that connected ÷ the seconds from the first CONNECT sent to the last first CONNACK. The
// live snapshots come once a second, too coarse for a ramp that lasts a second or two.
import type { DeviceRecord } from '../../metrics/records.js';

/** Connects completed per second over the ramp; null with fewer than two connected devices. */
export function connectRampPerSec(devices: Record<string, DeviceRecord>): number | null {
  let n = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const d of Object.values(devices)) {
    if (d.connectedAt === null) continue;
    n++;
    first = Math.min(first, d.connectedAt - (d.connectMs ?? 0));
    last = Math.max(last, d.connectedAt);
  }
  if (n < 2 || !(last > first)) return null;
  return Math.round((n / ((last - first) / 1000)) * 10) / 10;
}
