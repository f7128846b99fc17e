// Stored-vs-sent through ThingsBoard's REST API: COUNT of `sequence` points per device (bounded
// concurrency, progress bar), re-counts while points are still arriving (queue lag: the late ones),
// then the stored values of a sample of devices for exact gaps and duplicates.
import type { TbClient } from '../../thingsboard/client.js';
import { runPool } from '../pool.js';
import { startProgress } from '../progress.js';
import { analyzeSequences, type SequenceAnalysis } from './analyze.js';
import { countStored, readSequences, type Window } from './readback.js';

export interface ExpectedDevice {
  name: string;
  id: string;
  sent: number;
  acked: number;
  /**
   * The lab's record of this device ends before its last publish (its shard crashed): stored
   * sequence values above `sent` are its publishes, not strays.
   */
  open?: boolean;
  /** Every message of it is answered whatever MQTT_QOS says (an HTTP device): complete when stored ≥ acked. */
  answered?: boolean;
}

export interface ReconcileOptions {
  client: TbClient;
  devices: ExpectedDevice[];
  /** Names of the devices whose values are read one by one. */
  sample: ReadonlySet<string>;
  /** Window start, ms; the end is "now" plus a clock-skew margin at each read. */
  startTs: number;
  concurrency: number;
  /** Keep re-counting devices with missing points for up to this long, s. */
  settleSec: number;
  lateMs: number;
  /** At QoS 0 nothing is acknowledged: a device is complete when stored ≥ sent. */
  qos: 0 | 1;
  /** Progress bar stream (stderr); none when omitted. */
  progress?: NodeJS.WritableStream;
  /** Called after each REST request (for 429 accounting). */
  onRequest?: () => void;
}

export interface DeviceReadback {
  /** Stored points at the last count. */
  stored: number;
  /** Stored after the first end-of-run count. */
  lateArrivals: number;
  /** Sampled devices: the stored values analysed. */
  analysis?: SequenceAnalysis;
  /** Sampled devices: false when the server returned fewer values than it counted (retention, or the emulator's bounded raw history). */
  complete?: boolean;
}

/** Stored points' ts may run ahead of the lab's clock by this much, ms. */
const CLOCK_SKEW_MS = 60_000;
/** Re-count rounds without any change after which waiting stops. */
const QUIET_ROUNDS = 3;

const readWindow = (startTs: number): Window => ({ startTs, endTs: Date.now() + CLOCK_SKEW_MS });

/** Total stored `sequence` points of all devices now (the periodic check during a run). */
export async function countAll(o: Pick<ReconcileOptions, 'client' | 'devices' | 'startTs' | 'concurrency' | 'onRequest'>): Promise<number> {
  let total = 0;
  const w = readWindow(o.startTs);
  await runPool(o.devices.length, o.concurrency, async (i) => {
    total += await countStored(o.client, o.devices[i].id, w);
    o.onRequest?.();
  });
  return total;
}

export async function reconcileRest(o: ReconcileOptions): Promise<Map<string, DeviceReadback>> {
  const out = new Map<string, DeviceReadback>();
  const target = (d: ExpectedDevice) => (o.qos === 1 || d.answered ? d.acked : d.sent);
  const bar =
    o.progress &&
    startProgress({ stream: o.progress, total: o.devices.length, unit: 'devices', label: 'delivery: counting stored points' });
  try {
    const w = readWindow(o.startTs);
    await runPool(o.devices.length, o.concurrency, async (i) => {
      const d = o.devices[i];
      out.set(d.name, { stored: await countStored(o.client, d.id, w), lateArrivals: 0 });
      o.onRequest?.();
      bar?.tick();
    });
  } finally {
    bar?.stop();
  }
  const first = new Map([...out].map(([k, v]) => [k, v.stored]));
  const deadline = Date.now() + o.settleSec * 1000;
  for (let quiet = 0; quiet < QUIET_ROUNDS && Date.now() < deadline;) {
    const waiting = o.devices.filter((d) => out.get(d.name)!.stored < target(d));
    if (waiting.length === 0) break;
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))));
    let changed = false;
    const w = readWindow(o.startTs);
    await runPool(waiting.length, o.concurrency, async (i) => {
      const d = waiting[i];
      const n = await countStored(o.client, d.id, w);
      o.onRequest?.();
      const r = out.get(d.name)!;
      if (n !== r.stored) changed = true;
      r.stored = n;
      r.lateArrivals = Math.max(0, n - first.get(d.name)!);
    });
    quiet = changed ? 0 : quiet + 1;
  }
  const sampled = o.devices.filter((d) => o.sample.has(d.name));
  const sbar =
    o.progress && sampled.length > 0
      ? startProgress({ stream: o.progress, total: sampled.length, unit: 'devices', label: 'delivery: reading sequences' })
      : null;
  try {
    const w = readWindow(o.startTs);
    await runPool(sampled.length, o.concurrency, async (i) => {
      const d = sampled[i];
      const r = out.get(d.name)!;
      const { points, complete } = await readSequences(o.client, d.id, w, Math.max(r.stored, d.sent) * 2 + 1000);
      o.onRequest?.();
      r.analysis = analyzeSequences(points, d.open ? Math.max(d.sent, maxSequence(points)) : d.sent, o.lateMs);
      r.complete = complete && points.length >= r.stored;
      sbar?.tick();
    });
  } finally {
    sbar?.stop();
  }
  return out;
}

/** The highest integer `sequence` value stored (0 when none). */
export function maxSequence(points: ReadonlyArray<{ seq: number }>): number {
  let max = 0;
  for (const p of points) if (Number.isInteger(p.seq) && p.seq > max) max = p.seq;
  return max;
}
