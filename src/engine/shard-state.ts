// The shard's state machine over its rows (simulated devices), in typed arrays, driven by one
// injected clock and no timers or sockets of its own: the composition (shard.ts) calls `tick`
// every wheel tick and `housekeeping` every 250 ms; the workload behind src/device/workload.ts
// does the I/O and reports back as the WorkloadHost. Unit-tested with a fake clock and workload
// (test/unit/shard-state.test.ts).
//
//   IDLE ─wanted─▶ QUEUED ─token─▶ CONNECTING ─connected─▶ UP ─leave─▶ CLOSING ─closed─▶ next
//                    ▲                  │ closed / timeout    │ closed (failure)
//                    └──── BACKOFF ◀────┴─────────────────────┘ (or DOWN without RECONNECT)
//   pause → PAUSED, stage ramp-down → IDLE, stop → STOPPED, from any state (open ones via
//   CLOSING). Counting is Tallies' job (tallies.ts), the publish schedule Publisher's (publisher.ts).
import { CAUSES, type Cause, type ErrorKind } from '../device/causes.js';
import type { Workload, WorkloadHost } from '../device/workload.js';
import { backoffDelay } from './backoff.js';
import type { Clock } from './clock.js';
import { D, D_FIELDS } from './counters.js';
import { InflightWindows } from './inflight.js';
import type { ShardDevice, ShardSettings } from './protocol.js';
import { activeAt } from './stages.js';
import { Tallies } from './tallies.js';
import { TokenBucket } from './token-bucket.js';
import { TimerWheel } from './wheel.js';
import { S, STATE } from './states.js';
import { Publisher } from './publisher.js';
import { ConnectQueue } from './connect-queue.js';
import { rowAcks } from './workload-rows.js';

/** Connects started per tick at most when unlimited, to keep the loop responsive. */
const MAX_CONNECTS_PER_TICK = 500;
/** A session closed on purpose is destroyed if the server has not closed its side by then, ms. */
export const CLOSE_GRACE_MS = 2000;
/** After a stop's drain, sessions that have not closed by then are destroyed, ms. */
const STOP_CLOSE_MS = 2000;

export interface ShardStateOptions {
  clock: Clock;
  /** Jitter and backoff draws (default Math.random). */
  random?: () => number;
  /** Called once when a stop has closed every session (or given up on them). */
  onStopped?: () => void;
  /** Builds the workload this state machine drives (it reports back to `host`). */
  workload(host: WorkloadHost, clock: Clock): Workload;
  /** Work under way besides in-flight publishes (overlay round trips): a stop's drain waits for it too. */
  busy?: () => boolean;
  /** Rows that connect but publish nothing (their sessions only carry overlays). */
  quiet?: (i: number) => boolean;
}

export class ShardState implements WorkloadHost {
  readonly n: number;
  readonly state: Uint8Array;
  readonly paused: Uint8Array;
  /** the stages want the row active */
  readonly wanted: Uint8Array;
  readonly inflight: InflightWindows;
  readonly tallies: Tallies;
  private readonly connectStart: Float64Array;
  private readonly closingAt: Float64Array;
  /** failed attempts since the last accepted connect (backoff exponent, saturating) */
  private readonly attempt: Uint16Array;
  /** state to enter once an intentional close completes; -1 = a close now is a failure */
  private readonly after: Int8Array;
  /** a reconnect is in the retry wheel; `retryAt` is when it is due */
  private readonly retrying: Uint8Array;
  private readonly retryAt: Float64Array;
  private readonly queue: ConnectQueue;
  /** Rows in CONNECTING: socket opened, not yet connected (capped by connectMaxInProgress). */
  private connecting = 0;
  private readonly retries: TimerWheel;
  private readonly publisher: Publisher;
  private readonly bucket: TokenBucket;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly work: Workload;
  private startedAt = 0;
  stopping: null | { deadline: number; closing: boolean } = null;
  private stopped = false;
  private readonly fireRetry = (i: number, due: number) => this.onRetry(i, due);

  constructor(
    readonly settings: ShardSettings,
    readonly devices: readonly ShardDevice[],
    private readonly opts: ShardStateOptions,
  ) {
    const n = (this.n = devices.length);
    this.clock = opts.clock;
    this.random = opts.random ?? Math.random;
    this.state = new Uint8Array(n);
    this.tallies = new Tallies(n, devices, settings.endpoints?.length ?? 1);
    this.paused = new Uint8Array(n);
    this.wanted = new Uint8Array(n);
    this.connectStart = new Float64Array(n);
    this.closingAt = new Float64Array(n);
    this.attempt = new Uint16Array(n);
    this.after = new Int8Array(n).fill(-1);
    this.retrying = new Uint8Array(n);
    this.retryAt = new Float64Array(n);
    this.queue = new ConnectQueue();
    this.inflight = new InflightWindows(n, rowAcks(devices, settings.qos).includes(1));
    const now = this.clock.now();
    this.retries = new TimerWheel(n, settings.tickMs, 2048, now);
    this.work = opts.workload(this, this.clock);
    this.publisher = new Publisher(this, this.tallies, this.work, settings, devices, this.clock, this.random);
    this.bucket = new TokenBucket(settings.connectRate, now);
  }

  start(pausedNames: string[]): void {
    this.startedAt = this.clock.now();
    this.setPaused(pausedNames);
    this.housekeeping();
  }

  /** Rows in state CONNECTING, UP or CLOSING: their connection is open. */
  isOpen(i: number): boolean {
    const s = this.state[i];
    return s === S.CONNECTING || s === S.UP || s === S.CLOSING;
  }

  // ── schedule ────────────────────────────────────────────────────────────────────────────────

  tick(): void {
    const now = this.clock.now();
    this.retries.advance(now, this.fireRetry); // rows due to reconnect join the queue before it is served
    this.connectSome(now);
    this.publisher.advance(now);
    if (this.stopping) this.progressStop(now);
  }

  // ── what the workload reports ───────────────────────────────────────────────────────────────

  acked(i: number, ackId: number, at: number, refused: string | null, kind: ErrorKind = 'puback-error'): void {
    const sentAt = this.inflight.take(i, ackId);
    if (sentAt < 0) return; // ack of a message already counted failed (timed out)
    if (refused === null) {
      this.tallies.acked(i, at - sentAt);
      // the publish's outcome next to the publish itself (the run log pairs them by packet id)
      if (this.settings.logEveryMessage) {
        const ackMs = Math.round((at - sentAt) * 1000) / 1000;
        this.tallies.event({ ts: Math.round(at), ev: 'acked', device: this.devices[i].name, packetId: ackId, ackMs });
      }
      return;
    }
    this.tallies.failPublishes(i, 1, kind);
    this.tallies.refused(i, refused);
    this.tallies.event({ ts: Math.round(at), ev: 'error', device: this.devices[i].name, error: refused, packetId: ackId });
  }

  connected(i: number, at: number): void {
    this.state[i] = S.UP;
    this.connecting--;
    this.attempt[i] = 0;
    this.tallies.connected(i, at, at - this.connectStart[i]);
    if (this.stopping) this.leave(i, S.STOPPED);
    else if (this.paused[i]) this.leave(i, S.PAUSED);
    else if (!this.wanted[i]) this.leave(i, S.IDLE);
    else if (!this.opts.quiet?.(i)) this.publisher.join(i, at);
  }

  /** After every connection close: in-flight losses, the failure record, then the next state. */
  closed(i: number, cause: Cause | null, kind: ErrorKind | null): void {
    const was = this.state[i];
    if (was === S.CONNECTING) this.connecting--;
    const lost = this.inflight.clear(i);
    if (lost > 0) this.tallies.failPublishes(i, lost, 'lost-in-flight');
    const after = this.after[i];
    if (after >= 0) {
      this.after[i] = -1;
      this.state[i] = after;
      if (after === S.IDLE && this.wanted[i] && !this.paused[i]) this.enqueue(i);
      return;
    }
    const now = this.clock.now();
    const connecting = was === S.CONNECTING;
    // a close right after a publish that lost it reads as the server refusing the message
    const lastPub = this.tallies.dev[i * D_FIELDS + D.LAST_PUB];
    const dropped = lost > 0 && now - lastPub < 50 ? CAUSES.closedAfterPublish : CAUSES.serverClosed;
    const c = cause ?? (connecting ? CAUSES.closedBeforeConnack : dropped);
    this.tallies.failed(i, Math.round(now), c, kind, connecting, lost);
    if (this.stopping) this.state[i] = S.STOPPED;
    else if (this.paused[i]) this.state[i] = S.PAUSED;
    else if (!this.wanted[i]) this.state[i] = S.IDLE;
    else if (!this.settings.reconnect) this.state[i] = S.DOWN;
    else {
      this.state[i] = S.BACKOFF;
      const a = this.attempt[i];
      if (a < 0xffff) this.attempt[i] = a + 1;
      const st = this.settings;
      this.retryAfter(i, now + backoffDelay(a, st.reconnectMinMs, st.reconnectMaxMs, this.random));
    }
  }

  // ── connections ─────────────────────────────────────────────────────────────────────────────

  private enqueue(i: number): void {
    if (this.stopping || this.paused[i] || !this.wanted[i]) {
      const s = this.state[i];
      if (s === S.BACKOFF || s === S.QUEUED) this.state[i] = this.paused[i] ? S.PAUSED : S.IDLE;
      return;
    }
    this.state[i] = S.QUEUED;
    this.queue.push(i);
  }

  /** Reconnect row i at `at` (the retry wheel holds each row at most once). */
  private retryAfter(i: number, at: number): void {
    this.retryAt[i] = at;
    if (this.retrying[i]) return; // still in the wheel: it re-files itself at the new time
    this.retrying[i] = 1;
    this.retries.schedule(i, at);
  }

  private onRetry(i: number, due: number): void {
    // re-filed while in the wheel: wait for the new time
    if (this.retryAt[i] !== due && this.state[i] === S.BACKOFF) return this.retries.schedule(i, this.retryAt[i]);
    this.retrying[i] = 0;
    if (this.state[i] === S.BACKOFF) this.enqueue(i);
  }

  private connectSome(now: number): void {
    if (this.queue.empty() || this.stopping) return;
    const cap = this.settings.connectMaxInProgress;
    const room = cap > 0 ? cap - this.connecting : Infinity;
    let budget = Math.min(this.bucket.available(now), MAX_CONNECTS_PER_TICK, room);
    const addrs = this.settings.sourceAddresses;
    while (budget > 0 && !this.queue.empty()) {
      const i = this.queue.shift();
      if (this.state[i] !== S.QUEUED) continue;
      this.state[i] = S.CONNECTING;
      this.connecting++;
      this.tallies.connectAttempt(i);
      this.bucket.take();
      budget--;
      this.connectStart[i] = now;
      this.after[i] = -1;
      const from = addrs.length ? addrs[(this.devices[i].index - 1) % addrs.length] : undefined;
      this.work.connect(i, from);
    }
  }

  // ── control ─────────────────────────────────────────────────────────────────────────────────

  setPaused(names: readonly string[]): void {
    const set = new Set(names);
    const ts = Math.round(this.clock.now());
    for (let i = 0; i < this.n; i++) {
      const p = set.has(this.devices[i].name) ? 1 : 0;
      if (p === this.paused[i]) continue;
      this.paused[i] = p;
      this.tallies.dirty[i] |= STATE;
      this.tallies.event({ ts, ev: p ? 'paused' : 'resumed', device: this.devices[i].name });
      if (p) this.leave(i, S.PAUSED);
      else if (this.state[i] === S.PAUSED) this.enqueue(i);
    }
  }

  /** Takes device `i` offline on purpose, ending in state `next`. */
  private leave(i: number, next: number): void {
    const s = this.state[i];
    if (s === S.UP || s === S.CONNECTING) {
      this.after[i] = next;
      this.closingAt[i] = this.clock.now();
      this.work.close(i, s === S.UP);
      if (s === S.UP) this.state[i] = S.CLOSING;
    } else if (s !== S.CLOSING) this.state[i] = next;
    // CLOSING keeps the state it is closing for: a pause during a stage ramp-down's close ends
    // IDLE, and the device reconnects when the stages want it and it is not paused
  }

  stop(drainMs: number): void {
    if (this.stopping) return;
    const now = this.clock.now();
    this.stopping = { deadline: now + drainMs, closing: false };
    this.tallies.event({ ts: Math.round(now), ev: 'shard', what: 'stopping', inFlight: this.inflight.total() });
    // connected rows drain their in-flight messages first (progressStop)
    for (let i = 0; i < this.n; i++) if (this.state[i] !== S.UP && this.state[i] !== S.CLOSING) this.leave(i, S.STOPPED);
  }

  hurry(): void {
    if (this.stopping) this.stopping.deadline = 0;
  }

  private progressStop(now: number): void {
    const st = this.stopping!;
    if (!st.closing && (now >= st.deadline || (this.inflight.total() === 0 && !this.opts.busy?.()))) {
      st.closing = true;
      for (let i = 0; i < this.n; i++) if (this.state[i] === S.UP) this.leave(i, S.STOPPED);
      st.deadline = now + STOP_CLOSE_MS;
    }
    if (!st.closing) return;
    let open = 0;
    for (let i = 0; i < this.n; i++) if (this.isOpen(i)) open++;
    if (open > 0 && now < st.deadline) return;
    for (let i = 0; i < this.n; i++) if (this.isOpen(i)) this.work.close(i, false);
    if ((open === 0 || now >= st.deadline + 500) && !this.stopped) {
      this.stopped = true;
      this.opts.onStopped?.();
    }
  }

  // ── housekeeping: stages, connect/ack timeouts, keepalive ───────────────────────────────────

  housekeeping(): void {
    const now = this.clock.now();
    const st = this.settings;
    if (!this.stopping) {
      // stages count from this shard's start, like the run duration (process start-up is not load time)
      const share = activeAt(st.stages, st.fleetSize, (now - this.startedAt) / 1000) / st.fleetSize;
      const activeLocal = Math.round(share * this.n);
      for (let i = 0; i < this.n; i++) {
        const w = i < activeLocal ? 1 : 0;
        if (w === this.wanted[i]) continue;
        this.wanted[i] = w;
        if (w && !this.paused[i] && this.state[i] === S.IDLE) this.enqueue(i);
        else if (!w && !this.paused[i]) this.leave(i, S.IDLE);
      }
    }
    for (let i = 0; i < this.n; i++) {
      const s = this.state[i];
      if (s === S.CONNECTING) {
        const late = now - this.connectStart[i] > st.connectTimeoutMs;
        if (late) this.work.abort(i, CAUSES.connectTimeout, 'connect-timeout');
        continue;
      }
      if (s === S.CLOSING && now - this.closingAt[i] > CLOSE_GRACE_MS) {
        this.work.close(i, false); // the server never closed its side after our goodbye
        continue;
      }
      if (s !== S.UP && s !== S.CLOSING) continue;
      const expired = this.inflight.count(i) > 0 ? this.inflight.expire(i, now - st.ackTimeoutMs) : 0;
      if (expired) {
        this.tallies.failPublishes(i, expired, 'ack-timeout');
        const device = this.devices[i].name;
        this.tallies.event({ ts: Math.round(now), ev: 'ack-timeout', device, count: expired });
      }
      if (s === S.UP) this.work.housekeep(i, now);
    }
  }
}
