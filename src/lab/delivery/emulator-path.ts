// The second source of truth with --embedded: the emulator's own per-device record
// (/__emulator/stats), exact for every device, and the cross-check of the REST read-back against it.
import { LabError, describeError } from '../../common/errors.js';
import type { DeliveryDevice } from '../../report/schema.js';
import type { ExpectedDevice } from './reconcile.js';
import { LOST_LIST_LIMIT } from './analyze.js';

interface EmuDeviceStats {
  sequences: number;
  duplicates: number;
  maxSequence: number;
  rateLimited: number;
}

export interface EmulatorRecord {
  stored: number;
  lost: number;
  duplicates: number;
  lostSequences: number[];
  /** Messages the emulator refused with a transport rate limit. */
  rateLimited: number;
  /** Open devices (crashed shard): stored sequences above the lab's `sent` (see DeliveryDevice.unrecorded). */
  unrecorded: number;
}

async function getJson<T>(url: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new LabError('TARGET_UNREACHABLE', { message: `${url}: ${describeError(e)}` });
  }
  if (!res.ok) throw new LabError('REQUEST_REJECTED', { message: `${url} answered ${res.status}` });
  return (await res.json()) as T;
}

/** Per device: what the (fresh, embedded) emulator stored of 1..sent. */
export async function readEmulator(baseUrl: string, devices: ExpectedDevice[]): Promise<Map<string, EmulatorRecord>> {
  const stats = await getJson<{ perDevice: Record<string, EmuDeviceStats> }>(`${baseUrl}/__emulator/stats`);
  const out = new Map<string, EmulatorRecord>();
  for (const d of devices) {
    const st = stats.perDevice[d.name];
    if (!st) {
      out.set(d.name, { stored: 0, lost: d.sent, duplicates: 0, lostSequences: range(1, d.sent), rateLimited: 0, unrecorded: 0 });
      continue;
    }
    // an open device (its shard crashed) published at least up to the highest value stored
    const sent = d.open ? Math.max(d.sent, st.maxSequence) : d.sent;
    const rec: EmulatorRecord = {
      stored: st.sequences + st.duplicates,
      lost: Math.max(0, sent - st.sequences),
      duplicates: st.duplicates,
      lostSequences: [],
      rateLimited: st.rateLimited,
      unrecorded: sent - d.sent,
    };
    if (rec.lost > 0) {
      const detail = await getJson<{ missingSequences: number[] }>(`${baseUrl}/__emulator/stats?device=${encodeURIComponent(d.name)}`);
      // missing below the highest stored value, then the tail that never arrived
      const below = detail.missingSequences.filter((s) => s <= sent);
      rec.lostSequences = [...below, ...range(st.maxSequence + 1, sent)].slice(0, LOST_LIST_LIMIT);
    }
    out.set(d.name, rec);
  }
  return out;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s <= to && out.length < LOST_LIST_LIMIT; s++) out.push(s);
  return out;
}

/** Differences between the REST read-back and the emulator's record (empty = they agree exactly). */
export function crossCheck(rest: Record<string, DeliveryDevice>, emu: Map<string, EmulatorRecord>, limit = 20): string[] {
  const out: string[] = [];
  for (const [name, r] of Object.entries(rest)) {
    const e = emu.get(name);
    if (!e) continue;
    const diffs: string[] = [];
    if (r.stored !== e.stored) diffs.push(`stored ${r.stored} vs ${e.stored}`);
    if (r.exact) {
      if (r.lost !== e.lost) diffs.push(`lost ${r.lost} vs ${e.lost}`);
      if (r.duplicates !== e.duplicates) diffs.push(`duplicates ${r.duplicates} vs ${e.duplicates}`);
      if ((r.lostSequences ?? []).join(',') !== e.lostSequences.join(',')) diffs.push('different lost sequences');
    }
    if (diffs.length && out.length < limit) out.push(`${name}: REST ${diffs.join(', ')} (REST vs emulator)`);
  }
  return out;
}

/** Raw rows kept per device by an embedded emulator, all devices together (≈300 bytes each). */
const EMBEDDED_ROW_BUDGET = 2_000_000;

/**
 * `tblab emulator` flags for a run's embedded emulator: enough raw history per device that the
 * sampled devices' sequences can be read back in full (the emulator keeps 100 rows by default).
 */
export function embeddedEmulatorArgs(c: { durationSec: number; publishIntervalSec: number; deviceCount: number }): string[] {
  const perDevice = c.durationSec > 0 ? Math.ceil(c.durationSec / c.publishIntervalSec) + 100 : 100;
  return ['--recent-rows', String(Math.max(100, Math.min(perDevice, Math.floor(EMBEDDED_ROW_BUDGET / c.deviceCount))))];
}
