// The shard's publish schedule, the hot path: a timer wheel fires each connected row on its slot
// of the fleet-wide grid (open model: messages are due at intended times, late ones measured as
// schedule lag), and each fire appends the due messages to the workload's write and flushes it
// once. No object or closure per message; rows, counters and in-flight windows are the state
// machine's typed arrays (src/engine/shard-state.ts).
import type { Workload } from '../device/workload.js';
import { recordMs } from '../metrics/hdr.js';
import type { Clock } from './clock.js';
import { C, D, D_FIELDS } from './counters.js';
import type { InflightWindows } from './inflight.js';
import type { ShardDevice, ShardSettings } from './protocol.js';
import type { Tallies } from './tallies.js';
import { S, TRAFFIC } from './states.js';
import { TimerWheel } from './wheel.js';
import { rowAcks } from './workload-rows.js';

/** Without LOG_EVERY_MESSAGE, one publish in this many is logged. */
const PUBLISH_SAMPLE_EVERY = 1000;
/**
 * A device that fell behind sends the slots it missed in the last CATCH_UP_MS late, in one write,
 * rather than skipping them: a GC pause or a busy second does not lose messages, and a shard
 * behind at 100 msg/s per device amortises the write (B4: 71–88k → 99.6–112k msg/s, bench/README.md Finding 14).
 * Slots missed longer ago are skipped, which bounds the work of one wheel advance.
 */
const CATCH_UP_MS = 40;

/** The state machine's arrays and flags the publisher reads. */
export interface PublishRows {
  readonly state: Uint8Array;
  readonly paused: Uint8Array;
  readonly wanted: Uint8Array;
  readonly inflight: InflightWindows;
  readonly stopping: object | null;
}

export class Publisher {
  private readonly wheel: TimerWheel;
  /** a row is in the wheel */
  private readonly scheduled: Uint8Array;
  /** the grid slot each row's next fire counts from, ms */
  private readonly base: Float64Array;
  private readonly ackNext: Uint16Array;
  /** Rows whose messages are acknowledged (QoS 1, HTTP): they get ack ids and in-flight entries. */
  private readonly acks: Uint8Array;
  /** Most messages one device sends per wheel fire: its slots in CATCH_UP_MS (or one tick, if longer). */
  private readonly perFire: number;
  /** `now` of the running tick, ms. */
  private tickNow = 0;
  /** Publishes until the next sampled publish event (the first, then every PUBLISH_SAMPLE_EVERY-th). */
  private sampleIn = 1;
  private readonly fire = (i: number, due: number) => this.onDue(i, due);

  constructor(
    private readonly rows: PublishRows,
    private readonly tallies: Tallies,
    private readonly work: Workload,
    private readonly settings: ShardSettings,
    private readonly devices: readonly ShardDevice[],
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {
    const n = devices.length;
    const st = settings;
    this.scheduled = new Uint8Array(n);
    this.base = new Float64Array(n);
    this.ackNext = new Uint16Array(n).fill(1);
    this.acks = rowAcks(devices, st.qos);
    const slots = Math.max(64, Math.ceil(Math.min(st.intervalMs + st.jitterMs, 10_000) / st.tickMs) + 1);
    this.wheel = new TimerWheel(n, st.tickMs, slots, clock.now());
    this.perFire = Math.max(1, Math.ceil(Math.max(st.tickMs, CATCH_UP_MS) / st.intervalMs));
  }

  /** Row i is connected: put it on the fleet-wide grid (phase spread by fleet index over the interval). */
  join(i: number, now: number): void {
    if (this.scheduled[i]) return;
    const st = this.settings;
    const d = this.devices[i];
    // a gateway's children share its slot, so they come due in the same tick and ride in one batch
    const phase = (d.phase ?? (d.index - 1) / st.fleetSize) * st.intervalMs;
    const k = Math.max(0, Math.ceil((now - st.t0 - phase) / st.intervalMs));
    const base = (this.base[i] = st.t0 + phase + k * st.intervalMs);
    this.scheduled[i] = 1;
    this.wheel.schedule(i, st.jitterMs ? base + this.random() * st.jitterMs : base);
  }

  advance(now: number): void {
    this.tickNow = now;
    this.wheel.advance(now, this.fire);
  }

  /**
   * One wheel fire = every grid slot of device `i` from `due` up to now. The newest of them, up to
   * CATCH_UP_MS worth, are sent in one write (lag measured from each slot's intended time); older
   * missed slots are counted as skipped, and the device resumes on its grid after now, so a late
   * shard catches up in one call.
   */
  private onDue(i: number, due: number): void {
    const rows = this.rows;
    if (rows.stopping || !rows.wanted[i]) {
      this.scheduled[i] = 0;
      return;
    }
    const st = this.settings;
    const iv = st.intervalMs;
    const first = this.base[i];
    const slots = this.tickNow >= first + iv ? Math.floor((this.tickNow - first) / iv) + 1 : 1;
    const base = (this.base[i] = first + slots * iv);
    this.wheel.schedule(i, st.jitterMs ? base + (this.random() * 2 - 1) * st.jitterMs : base);
    if (rows.state[i] !== S.UP || rows.paused[i]) return this.skip(i, slots);
    const send = Math.min(slots, this.perFire);
    // several messages for one connection go out in one write (cork/uncork → writev allocated per
    // chunk: 14 % of the shard's time, bench/README.md Finding 4)
    let appended = 0;
    for (let k = slots - send; k < slots; k++) appended += this.publish(i, due + k * iv);
    if (appended) this.work.flush(i, this.tickNow);
    if (slots > send) this.skip(i, slots - send);
  }

  private skip(i: number, slots = 1): void {
    this.tallies.skipped(i, slots);
  }

  /** Appends message `due` of device `i` to the workload's write; 1 = appended, 0 = skipped (backed up, window full). */
  private publish(i: number, due: number): number {
    const rows = this.rows;
    const acks = this.acks[i] === 1;
    if (this.work.backedUp(i) || (acks && rows.inflight.full(i))) {
      this.skip(i);
      return 0;
    }
    const now = this.clock.now();
    const t = this.tallies;
    const dev = t.dev;
    const row = i * D_FIELDS;
    const seq = dev[row + D.LAST_SEQ] + 1;
    let id = 0;
    if (acks) {
      id = this.ackNext[i];
      this.ackNext[i] = id === 65535 ? 1 : id + 1;
    }
    const bytes = this.work.append(i, seq, Math.round(now), id);
    dev[row + D.LAST_SEQ] = seq;
    dev[row + D.SENT]++;
    if (dev[row + D.FIRST_PUB] === 0) dev[row + D.FIRST_PUB] = now;
    dev[row + D.LAST_PUB] = now;
    t.dirty[i] |= TRAFFIC;
    t.c[C.SENT]++;
    t.c[C.BYTES] += bytes;
    recordMs(t.lagHist, now - due);
    if (acks) rows.inflight.push(i, id, now);
    // a countdown, not `sent % N`: `%` on a double is a C call in V8
    if (--this.sampleIn === 0 || this.settings.logEveryMessage) {
      if (this.sampleIn === 0) this.sampleIn = PUBLISH_SAMPLE_EVERY;
      const lagMs = Math.round((now - due) * 1000) / 1000;
      const packet = acks ? { packetId: id } : {};
      t.event({ ts: Math.round(now), ev: 'publish', device: this.devices[i].name, sequence: seq, bytes, lagMs, ...packet });
    }
    return 1;
  }
}
