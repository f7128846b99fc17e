// One simulated device's MQTT session on a raw socket: connect, CONNACK, PUBACK/PINGRESP/
// DISCONNECT frames, and the cause of its end. Counters, schedule and in-flight window live in
// the shard's typed arrays; a session only holds its socket and what a close needs to explain.
import type net from 'node:net';
import { FrameReader, PacketType, type FrameSink } from '../device/frame-reader.js';
import { encodeConnect } from '../device/packets.js';
import { openStream, readyEvent } from '../device/transport.js';
import { CAUSES, connackCause, disconnectReasonCause, socketErrorCause, type Cause, type ErrorKind } from '../device/causes.js';
import type { ShardDevice } from './protocol.js';
import type { Shard } from './shard.js';
import { nowMs } from './clock.js';

/** Device states (Shard.state). */
export const S = {
  IDLE: 0,
  QUEUED: 1,
  CONNECTING: 2,
  UP: 3,
  BACKOFF: 4,
  PAUSED: 5,
  CLOSING: 6,
  /** down after a failure with reconnect off */
  DOWN: 7,
  STOPPED: 8,
} as const;

/** Socket listeners are shared functions that find their session on the socket, rather than
 * per-device bound closures: ~0.4 KB less heap per connection (B3 targets ≤ 10 KB/connection).
 * `on`, not `once`, for the one-shot ready and close events: `once` allocates a wrapper state and
 * a bound function per socket, and removing the fired ready listener turns the socket's
 * `_events` into a dictionary (B3, bench/README.md). Both fire at most once per socket anyway. */
const SESSION = Symbol('tblab.session');
type SessionSocket = net.Socket & { [SESSION]: DeviceSession };
function onOpen(this: SessionSocket): void { this[SESSION].opened(); }
function onData(this: SessionSocket, chunk: Buffer): void { this[SESSION].data(chunk, chunk.length); }
function onRead(this: net.Socket, n: number, buf: Buffer): boolean { (this as SessionSocket)[SESSION].data(buf, n); return true; }
function onError(this: SessionSocket, e: NodeJS.ErrnoException): void { this[SESSION].errored(e); }
function onClose(this: SessionSocket): void { this[SESSION].closed(); }
function retrySession(s: DeviceSession): void { s.retry(); }

export class DeviceSession implements FrameSink {
  socket: net.Socket | null = null;
  connectStart = 0;
  /** failed attempts since the last accepted CONNACK (backoff exponent) */
  attempt = 0;
  lastTx = 0;
  lastRx = 0;
  /** time of the outstanding PINGREQ, 0 = none */
  pingAt = 0;
  retryTimer: NodeJS.Timeout | null = null;
  /** when an intentional close began */
  closingAt = 0;
  private readonly reader = new FrameReader(this);
  private cause: Cause | null = null;
  private errKind: ErrorKind | null = null;
  /** state to enter after an intentional close; -1 = the close is a failure */
  private after = -1;

  constructor(private readonly shard: Shard, readonly i: number, readonly device: ShardDevice) {}

  connect(now: number, localAddress: string | undefined): void {
    this.cause = null;
    this.errKind = null;
    this.after = -1;
    this.pingAt = 0;
    this.reader.reset();
    this.connectStart = now;
    const t = this.shard.target;
    // plain TCP reads into a shared buffer (onRead); TLS emits 'data'
    const s = openStream(t, localAddress, t.tls ? undefined : onRead) as SessionSocket;
    s[SESSION] = this;
    s.on(readyEvent(t), onOpen);
    if (t.tls) s.on('data', onData);
    s.on('error', onError);
    s.on('close', onClose);
    this.socket = s;
  }

  /** Ends the session on purpose (pause, stage ramp-down, stop): DISCONNECT, then `next` state. */
  closeIntentionally(next: number, graceful: boolean): void {
    this.after = next;
    this.closingAt = nowMs();
    const s = this.socket;
    if (!s) return;
    // DISCONNECT, then the server closes first (the shard destroys the socket after a grace
    // period if it does not): TIME_WAIT lands on the server, not on our source ports, so the next
    // run's bind() on the same SOURCE_ADDRESSES is not slowed by thousands of them (B3)
    if (graceful && this.shard.state[this.i] === S.UP) {
      s.write(this.shard.disconnectPacket);
    } else s.destroy();
  }

  /** Ends the session as a failure with `cause` (first cause wins). */
  fail(cause: Cause, kind: ErrorKind | null): void {
    if (!this.cause) {
      this.cause = cause;
      this.errKind = kind;
    }
    this.socket?.destroy();
  }

  write(buf: Buffer, now: number): void {
    this.socket!.write(buf);
    this.lastTx = now;
  }

  /** Reconnect after `ms` (one shared timer callback, not a bound function per session). */
  retryIn(ms: number): void {
    this.retryTimer = setTimeout(retrySession, ms, this);
  }

  retry(): void {
    this.retryTimer = null;
    this.shard.enqueue(this.i);
  }

  opened(): void {
    const now = nowMs();
    const st = this.shard.settings;
    this.lastRx = now;
    this.write(encodeConnect({ credentials: this.device.credentials, clientId: `tblab-${this.device.name}`, keepaliveSec: st.keepaliveSec, version: st.mqttVersion }), now);
  }

  data(buf: Buffer, n: number): void {
    this.lastRx = nowMs();
    this.reader.push(buf, n);
  }

  onFrame(type: number, _flags: number, buf: Buffer, start: number, len: number): void {
    switch (type) {
      case PacketType.PUBACK:
        this.shard.onPuback(this.i, len >= 2 ? (buf[start] << 8) | buf[start + 1] : 0, len >= 3 ? buf[start + 2] : 0, this.lastRx);
        return;
      case PacketType.CONNACK: {
        if (this.shard.state[this.i] !== S.CONNECTING || len < 2) return this.fail(CAUSES.protocolViolation, 'protocol');
        const code = buf[start + 1];
        if (code === 0) this.shard.onConnected(this.i, this.lastRx);
        else this.fail(connackCause(code, this.shard.settings.mqttVersion === '5'), 'connect-refused');
        return;
      }
      case PacketType.PINGRESP:
        this.pingAt = 0;
        return;
      case PacketType.DISCONNECT:
        return this.fail(disconnectReasonCause(len >= 1 ? buf[start] : 0), null);
      default:
        return this.fail(CAUSES.protocolViolation, 'protocol');
    }
  }

  onMalformed(): void {
    this.fail(CAUSES.protocolViolation, 'protocol');
  }

  errored(e: NodeJS.ErrnoException): void {
    if (this.cause || this.after >= 0) return;
    const c = socketErrorCause(e);
    const up = this.shard.state[this.i] === S.UP;
    this.cause = up && c.class === 'network' ? { cause: `connection lost (${c.cause})`, class: 'network' } : c;
    this.errKind = up ? (e.code === 'EPIPE' ? 'write-error' : null) : 'connect-error';
  }

  closed(): void {
    this.socket = null;
    this.shard.onSessionClosed(this.i, this.after, this.cause, this.errKind);
  }
}
