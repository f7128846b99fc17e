// One device's delivery result from either source: the REST read-back (exact for the sampled
// devices, counts for the rest) or the embedded emulator's own record (exact for all), and the
// result of a device the server does not have (a gateway child that was never created).
import type { DeliveryDevice } from '../../report/schema.js';
import type { DeviceReadback, ExpectedDevice } from './reconcile.js';
import type { EmulatorRecord } from './emulator-path.js';

export function fromRest(d: ExpectedDevice, r: DeviceReadback, note: (m: string) => void): DeliveryDevice {
  const a = r.analysis;
  if (a && !r.complete)
    note(
      `${d.name}: the server returned ${a.stored} of ${r.stored} counted values (retention, or the emulator's raw-history cap): exact gaps not available`,
    );
  if (a && a.unexpected > 0)
    note(
      `${d.name}: ${a.unexpected} stored sequence value(s) outside 1..${d.sent} in the window (another writer, or a previous run's data)`,
    );
  const base = { sent: d.sent, acked: d.acked, stored: r.stored };
  if (a && r.complete) {
    // an open device's range was extended to its highest stored value (reconcileRest): the rest is unrecorded
    const unrecorded = d.open ? a.lost + a.distinct - d.sent : 0;
    return {
      ...base,
      lost: a.lost,
      duplicates: a.duplicates,
      late: Math.max(r.lateArrivals, a.lateByTs),
      exact: true,
      ...(a.lost > 0 ? { lostSequences: a.lostSequences } : {}),
      ackedNotStored: Math.max(0, d.acked - a.distinct),
      ...(d.open ? { unrecorded } : {}),
    };
  }
  // counts only: for an open device, points beyond `sent` are its unrecorded publishes, not duplicates
  const beyond = Math.max(0, r.stored - d.sent);
  return {
    ...base,
    lost: Math.max(0, d.sent - r.stored),
    duplicates: d.open ? 0 : beyond,
    late: r.lateArrivals,
    exact: false,
    ackedNotStored: Math.max(0, d.acked - r.stored),
    ...(d.open ? { unrecorded: beyond } : {}),
  };
}

export function fromEmulator(d: ExpectedDevice, e: EmulatorRecord): DeliveryDevice {
  return {
    sent: d.sent,
    acked: d.acked,
    stored: e.stored,
    lost: e.lost,
    duplicates: e.duplicates,
    late: 0,
    exact: true,
    ...(e.lost > 0 ? { lostSequences: e.lostSequences } : {}),
    ackedNotStored: Math.max(0, d.acked - (e.stored - e.duplicates)),
    ...(d.open ? { unrecorded: e.unrecorded } : {}),
  };
}

/** A device the server does not have (a gateway child never created): nothing of it was stored. */
export function fromMissing(d: ExpectedDevice): DeliveryDevice {
  return {
    sent: d.sent,
    acked: d.acked,
    stored: 0,
    lost: d.sent,
    duplicates: 0,
    late: 0,
    exact: true,
    missing: true,
    ackedNotStored: d.acked,
  };
}
