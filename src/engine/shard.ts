// A shard: thousands of device sessions on one event loop. It owns the timer wheel (open-model
// schedule), the connect token bucket, reconnect backoff, the QoS 1 in-flight windows, pause/
// stage/stop transitions and the once-per-second snapshot. Hot-path state is in typed arrays.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PublishWriter, TELEMETRY_TOPIC, DISCONNECT_V311, DISCONNECT_V5, PINGREQ } from '../device/packets.js';
import { createPayloadSource } from '../device/payload.js';
import { CAUSES, ERROR_KINDS, pubackReason, type Cause, type ErrorKind } from '../device/causes.js';
import type { TransportTarget } from '../device/transport.js';
import { createHistogram, encodeHistogram, recordMs, type Histogram } from '../metrics/hdr.js';
import type { CauseClass } from '../metrics/snapshot.js';
import { TimerWheel } from './wheel.js';
import { TokenBucket } from './token-bucket.js';
import { backoffDelay } from './backoff.js';
import { activeAt } from './stages.js';
import { C, C_FIELDS, D, D_FIELDS, FLAG_CONNECTED, FLAG_PAUSED } from './counters.js';
import { DeviceSession, S } from './session.js';
import type { DisconnectEvent, ShardDevice, ShardEvent, ShardSettings, ShardSnapshot } from './protocol.js';
import { nowMs } from './clock.js';
import { InflightWindows } from './inflight.js';
import { rssMB } from './rss.js';

/** A device whose socket holds this many unsent bytes skips publishes instead of growing memory. */
const MAX_BUFFERED_BYTES = 64 * 1024;
/** Connects started per tick at most when unlimited, to keep the loop responsive. */
const MAX_CONNECTS_PER_TICK = 500;
/** A session closed on purpose is destroyed if the server has not closed its side by then, ms. */
const CLOSE_GRACE_MS = 2000;
/** Timeouts, keepalive and stage checks run this often, ms. */
const HOUSEKEEPING_MS = 250;
const MAX_DISCONNECT_RECORDS_PER_SNAPSHOT = 5000;
/** Without LOG_EVERY_MESSAGE, one publish in this many is logged. */
const PUBLISH_SAMPLE_EVERY = 1000;
/**
 * A device that fell behind sends the slots it missed in the last CATCH_UP_MS late, in one write,
 * rather than skipping them: a GC pause or a busy second does not lose messages, and a shard
 * behind at 100 msg/s per device amortises the write (B4: 71–88k → 99.6–112k msg/s, bench/README.md Finding 14).
 * Slots missed longer ago are skipped, which bounds the work of one wheel advance.
 */
const CATCH_UP_MS = 40;
/** Why a device's row is due in the next snapshot: only its traffic counters moved, or its state / errors did. */
const TRAFFIC = 1;
const STATE = 2;
/**
 * Rows whose only change is traffic (sent, acked, skipped: every publishing device, every second)
 * ship in every 5th snapshot and the final one; state and error changes ship every second. At
 * 10,000 devices shipping every row each second was most of the supervisor's per-message cost.
 */
const TRAFFIC_ROWS_EVERY = 5;

const ERR_INDEX: Record<ErrorKind, number> = Object.fromEntries(ERROR_KINDS.map((k, n) => [k, D.ERR0 + n])) as Record<ErrorKind, number>;

export interface ShardOutput {
  snapshot(s: ShardSnapshot, final: boolean): void;
}

export class Shard {
  readonly n: number;
  readonly state: Uint8Array;
  readonly c = new Float64Array(C_FIELDS);
  readonly dev: Float64Array;
  readonly target: TransportTarget;
  readonly disconnectPacket: Buffer;
  private readonly sessions: DeviceSession[];
  /** TRAFFIC | STATE bits: the device's row changed since it was last shipped */
  private readonly dirty: Uint8Array;
  private readonly paused: Uint8Array;
  private readonly wanted: Uint8Array;
  private readonly scheduled: Uint8Array;
  private readonly base: Float64Array;
  private readonly pidNext: Uint16Array;
  private readonly inflight: InflightWindows;
  /** `now` of the running tick, ms. */
  private tickNow = 0;
  /** Most messages one device sends per wheel fire: its slots in CATCH_UP_MS (or one tick, if longer). */
  private readonly perFire: number;
  private readonly queue: number[] = [];
  private queueHead = 0;
  /** Devices in state CONNECTING: socket opened, no CONNACK yet (capped by connectMaxInProgress). */
  private connecting = 0;
  private readonly wheel: TimerWheel;
  private readonly bucket: TokenBucket;
  private readonly packets: PublishWriter;
  /** Plain TCP: a write that leaves no unsent bytes has released its buffer (the writer reuses it). */
  private readonly reuseWrites: boolean;
  private readonly ackHist: Histogram = createHistogram();
  private readonly connectHist: Histogram = createHistogram();
  private readonly lagHist: Histogram = createHistogram();
  private readonly eld = monitorEventLoopDelay({ resolution: 10 });
  private byOutcome: Record<string, number> = {};
  private byCause: Record<string, number> = {};
  private byClass: Partial<Record<CauseClass, number>> = {};
  private errorsByKind: Record<string, number> = {};
  private events: ShardEvent[] = [];
  private disconnects: DisconnectEvent[] = [];
  private seq = 0;
  /** Publishes until the next sampled publish event (the first, then every PUBLISH_SAMPLE_EVERY-th). */
  private sampleIn = 1;
  /** Snapshots sent, for TRAFFIC_ROWS_EVERY. */
  private rounds = 0;
  private cpu = process.cpuUsage();
  private cpuAt = nowMs();
  private tickTimer: NodeJS.Timeout | null = null;
  private houseTimer: NodeJS.Timeout | null = null;
  private snapTimer: NodeJS.Timeout | null = null;
  private stopping: null | { deadline: number; closing: boolean } = null;
  private finished = false;
  private startedAt = 0;
  private readonly fire = (i: number, due: number) => this.onDue(i, due);

  constructor(readonly id: number, readonly settings: ShardSettings, readonly devices: ShardDevice[], private readonly out: ShardOutput) {
    const n = (this.n = devices.length);
    this.state = new Uint8Array(n);
    this.dev = new Float64Array(n * D_FIELDS);
    this.dirty = new Uint8Array(n);
    this.paused = new Uint8Array(n);
    this.wanted = new Uint8Array(n);
    this.scheduled = new Uint8Array(n);
    this.base = new Float64Array(n);
    this.pidNext = new Uint16Array(n).fill(1);
    this.inflight = new InflightWindows(n, settings.qos === 1);
    const t = settings.tls;
    this.target = {
      host: settings.host,
      port: settings.port,
      tls: t ? { insecure: t.insecure, ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}), ...(t.certFile ? { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile!) } : {}) } : null,
    };
    this.disconnectPacket = settings.mqttVersion === '5' ? DISCONNECT_V5 : DISCONNECT_V311;
    this.packets = new PublishWriter(TELEMETRY_TOPIC, settings.qos, settings.mqttVersion, createPayloadSource(devices, settings.payloadTemplate));
    this.reuseWrites = !t;
    this.sessions = devices.map((d, i) => new DeviceSession(this, i, d));
    const now = nowMs();
    this.wheel = new TimerWheel(n, settings.tickMs, Math.max(64, Math.ceil(Math.min(settings.intervalMs + settings.jitterMs, 10_000) / settings.tickMs) + 1), now);
    this.bucket = new TokenBucket(settings.connectRate, now);
    this.perFire = Math.max(1, Math.ceil(Math.max(settings.tickMs, CATCH_UP_MS) / settings.intervalMs));
  }

  start(pausedNames: string[]): void {
    this.startedAt = nowMs();
    this.eld.enable();
    this.event({ ts: Date.now(), ev: 'shard', what: 'start', pid: process.pid, devices: this.n });
    this.setPaused(pausedNames);
    this.housekeeping();
    this.tickTimer = setInterval(() => this.tick(), this.settings.tickMs);
    this.houseTimer = setInterval(() => this.housekeeping(), HOUSEKEEPING_MS);
    this.snapTimer = setInterval(() => this.sendSnapshot(false), 1000);
  }

  // ── schedule ────────────────────────────────────────────────────────────────────────────────

  private tick(): void {
    const now = (this.tickNow = nowMs());
    this.connectSome(now);
    this.wheel.advance(now, this.fire);
    if (this.stopping) this.progressStop(now);
  }

  /**
   * One wheel fire = every grid slot of device `i` from `due` up to now. The newest of them, up to
   * CATCH_UP_MS worth, are sent in one write (lag measured from each slot's intended time); older
   * missed slots are counted as skipped, and the device resumes on its grid after now, so a late
   * shard catches up in one call.
   */
  private onDue(i: number, due: number): void {
    if (this.stopping || !this.wanted[i]) {
      this.scheduled[i] = 0;
      return;
    }
    const st = this.settings;
    const iv = st.intervalMs;
    const first = this.base[i];
    const slots = this.tickNow >= first + iv ? Math.floor((this.tickNow - first) / iv) + 1 : 1;
    const base = (this.base[i] = first + slots * iv);
    this.wheel.schedule(i, st.jitterMs ? base + (Math.random() * 2 - 1) * st.jitterMs : base);
    if (this.state[i] !== S.UP || this.paused[i]) return this.skip(i, slots);
    const send = Math.min(slots, this.perFire);
    // several messages for one socket go out in one write (cork/uncork → writev allocated per
    // chunk: 14 % of the shard's time, bench/README.md)
    let appended = 0;
    for (let k = slots - send; k < slots; k++) appended += this.publish(i, due + k * iv);
    if (appended) {
      const sess = this.sessions[i];
      sess.write(this.packets.take(), this.tickNow);
      this.packets.written(this.reuseWrites && sess.socket!.writableLength === 0);
    }
    if (slots > send) this.skip(i, slots - send);
  }

  private skip(i: number, slots = 1): void {
    this.c[C.SKIPPED] += slots;
    this.dev[i * D_FIELDS + D.SKIPPED] += slots;
    this.dirty[i] |= TRAFFIC;
  }

  /** Appends message `due` of device `i` to the writer; 1 = appended, 0 = skipped (socket backed up, window full). */
  private publish(i: number, due: number): number {
    const qos = this.settings.qos;
    if (this.sessions[i].socket!.writableLength > MAX_BUFFERED_BYTES || (qos && this.inflight.full(i))) {
      this.skip(i);
      return 0;
    }
    const now = nowMs();
    const row = i * D_FIELDS;
    const seq = this.dev[row + D.LAST_SEQ] + 1;
    let pid = 0;
    if (qos) {
      pid = this.pidNext[i];
      this.pidNext[i] = pid === 65535 ? 1 : pid + 1;
    }
    const bytes = this.packets.append(i, seq, Math.round(now), pid);
    const dev = this.dev;
    dev[row + D.LAST_SEQ] = seq;
    dev[row + D.SENT]++;
    if (dev[row + D.FIRST_PUB] === 0) dev[row + D.FIRST_PUB] = now;
    dev[row + D.LAST_PUB] = now;
    this.dirty[i] |= TRAFFIC;
    this.c[C.SENT]++;
    this.c[C.BYTES] += bytes;
    recordMs(this.lagHist, now - due);
    if (qos) this.inflight.push(i, pid, now);
    // a countdown, not `sent % N`: `%` on a double is a C call in V8
    if (--this.sampleIn === 0 || this.settings.logEveryMessage) {
      if (this.sampleIn === 0) this.sampleIn = PUBLISH_SAMPLE_EVERY;
      const lagMs = Math.round((now - due) * 1000) / 1000;
      const packet = pid ? { packetId: pid } : {};
      this.event({ ts: Math.round(now), ev: 'publish', device: this.devices[i].name, sequence: seq, bytes, lagMs, ...packet });
    }
    return 1;
  }

  // ── acks ────────────────────────────────────────────────────────────────────────────────────

  onPuback(i: number, pid: number, reason: number, now: number): void {
    const sentAt = this.inflight.take(i, pid);
    if (sentAt < 0) return; // ack of a message already counted failed (timed out)
    const row = i * D_FIELDS;
    this.dirty[i] |= TRAFFIC;
    if (reason >= 0x80) {
      this.failPublishes(i, 1, 'puback-error');
      this.event({ ts: Date.now(), ev: 'error', device: this.devices[i].name, error: pubackReason(reason), packetId: pid });
      return;
    }
    this.c[C.ACKED]++;
    this.dev[row + D.ACKED]++;
    recordMs(this.ackHist, now - sentAt);
    // the publish's outcome next to the publish itself (the run log pairs them by packet id)
    if (this.settings.logEveryMessage) {
      const ackMs = Math.round((now - sentAt) * 1000) / 1000;
      this.event({ ts: Date.now(), ev: 'acked', device: this.devices[i].name, packetId: pid, ackMs });
    }
  }

  private failPublishes(i: number, count: number, kind: ErrorKind): void {
    this.c[C.FAILED] += count;
    this.dev[i * D_FIELDS + D.FAILED] += count;
    this.countError(i, kind, count);
  }

  private countError(i: number, kind: ErrorKind, count = 1): void {
    this.c[C.ERRORS] += count;
    this.dev[i * D_FIELDS + ERR_INDEX[kind]] += count;
    this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + count;
    this.dirty[i] |= STATE;
  }

  // ── connections ─────────────────────────────────────────────────────────────────────────────

  enqueue(i: number): void {
    if (this.stopping || this.paused[i] || !this.wanted[i]) {
      if (this.state[i] === S.BACKOFF || this.state[i] === S.QUEUED) this.state[i] = this.paused[i] ? S.PAUSED : S.IDLE;
      return;
    }
    this.state[i] = S.QUEUED;
    this.queue.push(i);
  }

  private connectSome(now: number): void {
    if (this.queueHead >= this.queue.length || this.stopping) return;
    const cap = this.settings.connectMaxInProgress;
    let budget = Math.min(this.bucket.available(now), MAX_CONNECTS_PER_TICK, cap > 0 ? cap - this.connecting : Infinity);
    const addrs = this.settings.sourceAddresses;
    while (budget > 0 && this.queueHead < this.queue.length) {
      const i = this.queue[this.queueHead++];
      if (this.state[i] !== S.QUEUED) continue;
      this.state[i] = S.CONNECTING;
      this.connecting++;
      this.c[C.CONNECT_ATTEMPTS]++;
      this.bucket.take();
      budget--;
      this.sessions[i].connect(now, addrs.length ? addrs[(this.devices[i].index - 1) % addrs.length] : undefined);
    }
    if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  onConnected(i: number, now: number): void {
    const sess = this.sessions[i];
    this.state[i] = S.UP;
    this.connecting--;
    sess.attempt = 0;
    const ms = now - sess.connectStart;
    const row = i * D_FIELDS;
    this.c[C.CONNECT_OK]++;
    this.byOutcome.accepted = (this.byOutcome.accepted ?? 0) + 1;
    this.dev[row + D.CONNECTS]++;
    if (this.dev[row + D.CONNECTED_AT] === 0) {
      this.dev[row + D.CONNECTED_AT] = Math.round(now);
      this.dev[row + D.CONNECT_MS] = Math.round(ms * 1000) / 1000;
    }
    this.dirty[i] |= STATE;
    recordMs(this.connectHist, ms);
    this.event({ ts: Math.round(now), ev: 'connected', device: this.devices[i].name, connectMs: Math.round(ms * 1000) / 1000 });
    if (this.paused[i] || !this.wanted[i] || this.stopping) return sess.closeIntentionally(this.stopping ? S.STOPPED : this.paused[i] ? S.PAUSED : S.IDLE, true);
    if (!this.scheduled[i]) {
      // join the fleet-wide grid: phase spread by fleet index over the interval
      const st = this.settings;
      const phase = ((this.devices[i].index - 1) / st.fleetSize) * st.intervalMs;
      const k = Math.max(0, Math.ceil((now - st.t0 - phase) / st.intervalMs));
      const base = (this.base[i] = st.t0 + phase + k * st.intervalMs);
      this.scheduled[i] = 1;
      this.wheel.schedule(i, st.jitterMs ? base + Math.random() * st.jitterMs : base);
    }
  }

  /** After every socket close: in-flight losses, the failure record, then the next state. */
  onSessionClosed(i: number, after: number, cause: Cause | null, kind: ErrorKind | null): void {
    const was = this.state[i];
    if (was === S.CONNECTING) this.connecting--;
    const lost = this.inflight.clear(i);
    if (lost > 0) this.failPublishes(i, lost, 'lost-in-flight');
    if (after >= 0) {
      this.state[i] = after;
      if (after === S.IDLE && this.wanted[i] && !this.paused[i]) this.enqueue(i);
      return;
    }
    const row = i * D_FIELDS;
    const now = Date.now();
    let c: Cause;
    if (was === S.CONNECTING) {
      c = cause ?? { cause: 'server closed before CONNACK', class: 'server' };
      this.c[C.CONNECT_FAILED]++;
      this.byOutcome[c.cause] = (this.byOutcome[c.cause] ?? 0) + 1;
      this.dev[row + D.CONNECT_FAILURES]++;
      this.countError(i, kind ?? 'connect-error');
      this.event({ ts: now, ev: 'connect-failed', device: this.devices[i].name, cause: c.cause, class: c.class });
    } else {
      c = cause ?? (lost > 0 && now - this.dev[row + D.LAST_PUB] < 50 ? CAUSES.closedAfterPublish : CAUSES.serverClosed);
      if (kind) this.countError(i, kind);
      this.event({ ts: now, ev: 'disconnect', device: this.devices[i].name, cause: c.cause, class: c.class, lostInFlight: lost });
    }
    this.c[C.DISCONNECTS]++;
    this.byCause[c.cause] = (this.byCause[c.cause] ?? 0) + 1;
    this.byClass[c.class] = (this.byClass[c.class] ?? 0) + 1;
    this.dev[row + D.DISCONNECTS]++;
    this.dirty[i] |= STATE;
    if (this.disconnects.length < MAX_DISCONNECT_RECORDS_PER_SNAPSHOT) this.disconnects.push({ i, at: now, cause: c.cause, class: c.class });
    if (this.stopping) this.state[i] = S.STOPPED;
    else if (this.paused[i]) this.state[i] = S.PAUSED;
    else if (!this.wanted[i]) this.state[i] = S.IDLE;
    else if (!this.settings.reconnect) this.state[i] = S.DOWN;
    else {
      const sess = this.sessions[i];
      this.state[i] = S.BACKOFF;
      sess.retryIn(backoffDelay(sess.attempt++, this.settings.reconnectMinMs, this.settings.reconnectMaxMs));
    }
  }

  // ── control ─────────────────────────────────────────────────────────────────────────────────

  setPaused(names: string[]): void {
    const set = new Set(names);
    for (let i = 0; i < this.n; i++) {
      const p = set.has(this.devices[i].name) ? 1 : 0;
      if (p === this.paused[i]) continue;
      this.paused[i] = p;
      this.dirty[i] |= STATE;
      this.event({ ts: Date.now(), ev: p ? 'paused' : 'resumed', device: this.devices[i].name });
      if (p) this.leave(i, S.PAUSED);
      else if (this.state[i] === S.PAUSED) this.enqueue(i);
    }
  }

  /** Takes device `i` offline on purpose, ending in state `next`. */
  private leave(i: number, next: number): void {
    const sess = this.sessions[i];
    if (sess.retryTimer) {
      clearTimeout(sess.retryTimer);
      sess.retryTimer = null;
    }
    const s = this.state[i];
    if (s === S.UP || s === S.CONNECTING) {
      sess.closeIntentionally(next, true);
      if (s === S.UP) this.state[i] = S.CLOSING;
    } else if (s !== S.CLOSING) this.state[i] = next;
  }

  stop(drainMs: number): void {
    if (this.stopping) return;
    this.stopping = { deadline: nowMs() + drainMs, closing: false };
    this.event({ ts: Date.now(), ev: 'shard', what: 'stopping', inFlight: this.inFlight() });
    for (let i = 0; i < this.n; i++) {
      const s = this.state[i];
      if (s === S.QUEUED || s === S.BACKOFF || s === S.IDLE || s === S.PAUSED || s === S.DOWN) this.leave(i, S.STOPPED);
      else if (s === S.CONNECTING) this.leave(i, S.STOPPED);
    }
  }

  hurry(): void {
    if (this.stopping) this.stopping.deadline = 0;
  }

  private progressStop(now: number): void {
    const st = this.stopping!;
    if (!st.closing && (now >= st.deadline || this.inFlight() === 0)) {
      st.closing = true;
      for (let i = 0; i < this.n; i++) if (this.state[i] === S.UP) this.leave(i, S.STOPPED);
      // sockets that do not close within 2 s are destroyed
      st.deadline = now + 2000;
    }
    if (!st.closing) return;
    let open = 0;
    for (const sess of this.sessions) if (sess.socket) open++;
    if (open > 0 && now < st.deadline) return;
    for (const sess of this.sessions) sess.socket?.destroy();
    if (open === 0 || now >= st.deadline + 500) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const t of [this.tickTimer, this.houseTimer, this.snapTimer]) if (t) clearInterval(t);
    this.event({ ts: Date.now(), ev: 'shard', what: 'stopped' });
    this.sendSnapshot(true);
    this.eld.disable();
  }

  // ── housekeeping: stages, connect/ack timeouts, keepalive ───────────────────────────────────

  private housekeeping(): void {
    const now = nowMs();
    const st = this.settings;
    if (!this.stopping) {
      // stages count from this shard's start, like the run duration (process start-up is not load time)
      const share = activeAt(st.stages, st.fleetSize, (now - this.startedAt) / 1000) / st.fleetSize;
      const activeLocal = Math.round(share * this.n);
      for (let i = 0; i < this.n; i++) {
        const w = i < activeLocal ? 1 : 0;
        if (w === this.wanted[i]) continue;
        this.wanted[i] = w;
        if (w && !this.paused[i] && (this.state[i] === S.IDLE)) this.enqueue(i);
        else if (!w && !this.paused[i]) this.leave(i, S.IDLE);
      }
    }
    const keepMs = st.keepaliveSec * 1000;
    for (let i = 0; i < this.n; i++) {
      const s = this.state[i];
      const sess = this.sessions[i];
      if (s === S.CONNECTING) {
        if (now - sess.connectStart > st.connectTimeoutMs) sess.fail(CAUSES.connectTimeout, 'connect-timeout');
        continue;
      }
      if (s === S.CLOSING && now - sess.closingAt > CLOSE_GRACE_MS) {
        sess.socket?.destroy(); // the server never closed its side after our DISCONNECT
        continue;
      }
      if (s !== S.UP && s !== S.CLOSING) continue;
      const expired = this.inflight.count(i) > 0 ? this.inflight.expire(i, now - st.ackTimeoutMs) : 0;
      if (expired) {
        this.failPublishes(i, expired, 'ack-timeout');
        this.event({ ts: Date.now(), ev: 'ack-timeout', device: this.devices[i].name, count: expired });
      }
      if (keepMs > 0 && s === S.UP) {
        if (sess.pingAt > 0) {
          if (now - sess.pingAt > keepMs) sess.fail(CAUSES.keepaliveTimeout, null);
        } else if (now - sess.lastTx >= keepMs || now - sess.lastRx >= keepMs) {
          sess.write(PINGREQ, now);
          sess.pingAt = now;
        }
      }
    }
  }

  // ── snapshot ────────────────────────────────────────────────────────────────────────────────

  private inFlight(): number {
    return this.inflight.total();
  }

  /** Lifecycle and error events are all kept (at most a few per device per second); publishes are sampled by the caller. */
  event(e: ShardEvent): void {
    this.events.push(e);
  }

  private sendSnapshot(final: boolean): void {
    const c = this.c;
    let connected = 0, paused = 0, wanted = 0, failed = 0, inFlight = 0;
    for (let i = 0; i < this.n; i++) {
      const s = this.state[i];
      const row = i * D_FIELDS;
      const flags = (s === S.UP ? FLAG_CONNECTED : 0) | (this.paused[i] ? FLAG_PAUSED : 0);
      if (this.dev[row + D.FLAGS] !== flags) {
        this.dev[row + D.FLAGS] = flags;
        this.dirty[i] |= STATE;
      }
      if (s === S.UP) connected++;
      if (this.paused[i]) paused++;
      else if (this.wanted[i]) {
        wanted++;
        if (s === S.BACKOFF || s === S.DOWN || ((s === S.QUEUED || s === S.CONNECTING) && this.dev[row + D.CONNECT_FAILURES] > 0)) failed++;
      }
      inFlight += this.inflight.count(i);
    }
    c[C.CONNECTED] = connected;
    c[C.PAUSED] = paused;
    c[C.WANTED] = wanted;
    c[C.FAILED_DEVICES] = failed;
    c[C.IN_FLIGHT] = inFlight;
    const due = final || ++this.rounds % TRAFFIC_ROWS_EVERY === 0 ? TRAFFIC | STATE : STATE;
    let nChanged = 0;
    for (let i = 0; i < this.n; i++) if (this.dirty[i] & due) nChanged++;
    const idx = new Int32Array(nChanged);
    const rows = new Float64Array(nChanged * D_FIELDS);
    for (let i = 0, k = 0; i < this.n; i++) {
      if (!(this.dirty[i] & due)) continue;
      this.dirty[i] = 0;
      idx[k] = i;
      rows.set(this.dev.subarray(i * D_FIELDS, (i + 1) * D_FIELDS), k * D_FIELDS);
      k++;
    }
    const now = nowMs();
    const cpu = process.cpuUsage(this.cpu);
    this.cpu = process.cpuUsage();
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.cpuAt)) * 100;
    this.cpuAt = now;
    const eldP99 = this.eld.count > 0 ? this.eld.percentile(99) / 1e6 : null;
    this.eld.reset();
    const snap: ShardSnapshot = {
      shardId: this.id,
      seq: ++this.seq,
      at: Date.now(),
      counters: Float64Array.from(c),
      byOutcome: { ...this.byOutcome },
      byCause: { ...this.byCause },
      byClass: { ...this.byClass },
      errorsByKind: { ...this.errorsByKind },
      hist: { ackMs: encodeHistogram(this.ackHist), connectMs: encodeHistogram(this.connectHist), scheduleLagMs: encodeHistogram(this.lagHist) },
      eventLoopP99Ms: eldP99,
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      rssMB: rssMB(),
      changed: { idx, rows },
      disconnects: this.disconnects,
      events: this.events,
    };
    this.ackHist.reset();
    this.connectHist.reset();
    this.lagHist.reset();
    this.disconnects = [];
    this.events = [];
    this.out.snapshot(snap, final);
  }
}
