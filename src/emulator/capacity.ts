// The saturating-server model behind `tblab emulator --capacity <msg/s>`: one FIFO server that
// completes `perSec` telemetry messages per second. A message that arrives while the server is busy
// waits in the queue; it is stored, and its QoS 1 PUBACK sent, when it is served — so PUBACK latency
// grows with the queue. A message that would have to wait longer than the bound (`queue` messages,
// i.e. queue ÷ perSec seconds of work) is dropped: not stored, no PUBACK, counted as dropped.
// Virtual time (`busyUntil`) makes the admission O(1); completions are in arrival order, so one
// timer on the queue's head serves them all. The queue runs on real time (its timers are real);
// stored timestamps follow the emulator's clock (`now` of the arrival plus the real wait).
import type { Device } from './model.js';
import type { TelemetryRow } from './payload.js';
import { AckBatch } from './mqtt/packets.js';

/** Default bound: this many seconds of work may wait before arrivals are dropped. */
export const DEFAULT_QUEUE_SEC = 5;
/** A message whose service would complete within this many ms of its arrival is served at once. */
const INLINE_MS = 1;

export interface CapacityOptions {
  /** Messages served per second; 0 = off (every message is served at once). */
  perSec: number;
  /** Most messages waiting; arrivals beyond are dropped (0 = DEFAULT_QUEUE_SEC × perSec). */
  queue?: number;
}

/** The emulator's `capacity` stats. */
export interface CapacityStats {
  perSec: number;
  /** The queue bound, messages. */
  queueBound: number;
  /** Messages waiting now. */
  queued: number;
  /** Most messages ever waiting at once. */
  maxQueued: number;
  /** Messages that waited (served later than their arrival). */
  delayed: number;
  /** Messages dropped because the queue was full: never stored, never acknowledged. */
  dropped: number;
  /** Longest wait of a served message, ms. */
  maxWaitMs: number;
}

/** The MQTT session of a QoS 1 message: its PUBACK goes to the socket when the message is served. */
export interface Acker {
  readonly closed: boolean;
  readonly socket: { readonly writable: boolean; write(b: Buffer): unknown };
}

function sendAcks(acker: Acker, ids: number[]): void {
  if (acker.closed || !acker.socket.writable) return;
  const batch = new AckBatch();
  for (const id of ids) batch.add(id);
  acker.socket.write(batch.take());
}

/** Stores a served message (Ingest.telemetry). */
export type Serve = (d: Device, rows: TelemetryRow[], now: number) => void;

interface Waiting {
  due: number;
  /** Arrival on the emulator's clock, and in real time. */
  arrived: number;
  arrivedReal: number;
  acker: Acker;
  packetId: number; // 0 = QoS 0
  device: Device;
  rows: TelemetryRow[];
}

export class Capacity {
  /** False when off: the ingest path takes one branch and nothing else. */
  on = false;
  private perSec = 0;
  private bound = 0;
  private busyUntil = 0;
  private readonly waiting: Waiting[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly counts = { maxQueued: 0, delayed: 0, dropped: 0, maxWaitMs: 0 };

  constructor(private readonly serve: Serve) {}

  configure(o: CapacityOptions): void {
    this.perSec = o.perSec > 0 ? o.perSec : 0;
    this.on = this.perSec > 0;
    this.bound = o.queue && o.queue > 0 ? Math.floor(o.queue) : Math.ceil(DEFAULT_QUEUE_SEC * this.perSec);
  }

  /** Messages waiting now. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Admits one telemetry message; it is served (stored, acknowledged) now, later, or dropped. */
  offer(acker: Acker, packetId: number, d: Device, rows: TelemetryRow[], now: number): void {
    const real = Date.now();
    const service = 1000 / this.perSec;
    const start = this.busyUntil > real ? this.busyUntil : real;
    const due = start + service;
    if (this.queued === 0 && due - real <= INLINE_MS) {
      this.busyUntil = due;
      this.serve(d, rows, now);
      if (packetId) sendAcks(acker, [packetId]);
      return;
    }
    // the waiting work ahead of this message, in messages: the queue bound
    if ((start - real) / service >= this.bound) {
      this.counts.dropped++;
      return;
    }
    this.busyUntil = due;
    this.waiting.push({ due, arrived: now, arrivedReal: real, acker, packetId, device: d, rows });
    const q = this.queued;
    if (q > this.counts.maxQueued) this.counts.maxQueued = q;
    if (!this.timer) this.arm();
  }

  private arm(): void {
    const next = this.waiting[this.head];
    this.timer = setTimeout(() => this.drain(), Math.max(0, next.due - Date.now()));
  }

  /** Serves every message now due, in order; PUBACKs go out one batch per session. */
  private drain(): void {
    this.timer = null;
    const now = Date.now();
    const acks = new Map<Acker, number[]>();
    while (this.head < this.waiting.length && this.waiting[this.head].due <= now + INLINE_MS) {
      const w = this.waiting[this.head++];
      this.counts.delayed++;
      const waited = now - w.arrivedReal;
      if (waited > this.counts.maxWaitMs) this.counts.maxWaitMs = waited;
      // stored even when its session closed meanwhile: the server had accepted the work
      this.serve(w.device, w.rows, w.arrived + waited);
      if (w.packetId && !w.acker.closed) {
        const ids = acks.get(w.acker);
        if (ids) ids.push(w.packetId);
        else acks.set(w.acker, [w.packetId]);
      }
    }
    for (const [acker, ids] of acks) sendAcks(acker, ids);
    if (this.head > 4096 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    if (this.queued > 0) this.arm();
  }

  stats(): CapacityStats {
    return { perSec: this.perSec, queueBound: this.bound, queued: this.queued, ...this.counts };
  }

  /** Stops serving (emulator close): waiting messages are neither stored nor acknowledged. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
