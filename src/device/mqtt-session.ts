// One device's MQTT connection on a raw socket: CONNECT, then CONNACK, PUBACK, PINGRESP and
// DISCONNECT frames, and the cause of its end. Lifecycle, counters, schedule and in-flight
// windows belong to the engine's shard; a session holds its socket, what keepalive needs, and
// what a close needs to explain.
import type net from 'node:net';
import { FrameReader, PacketType, type FrameSink } from './frame-reader.js';
import { encodeConnect, type MqttVersion } from './packets.js';
import { openStream, readyEvent, type TransportTarget } from './transport.js';
import { CAUSES, connackCause, disconnectReasonCause, pubackReason, socketErrorCause, type Cause, type ErrorKind } from './causes.js';
import type { WorkloadClock, WorkloadDevice, WorkloadHost } from './workload.js';
import type { OverlaySet } from './overlay-set.js';

/** What every session of one workload shares. */
export interface SessionContext {
  readonly host: WorkloadHost;
  readonly clock: WorkloadClock;
  readonly target: TransportTarget;
  readonly version: MqttVersion;
  readonly keepaliveSec: number;
  readonly disconnectPacket: Buffer;
  /** Overlay workloads (rpc, attributes) riding on the sessions: subscriptions and server publishes. */
  readonly overlays?: OverlaySet | null;
}

/** Socket listeners are shared functions that find their session on the socket, rather than
 * per-device bound closures: ~0.4 KB less heap per connection (B3 targets ≤ 10 KB/connection).
 * `on`, not `once`, for the one-shot ready and close events: `once` allocates a wrapper state and
 * a bound function per socket, and removing the fired ready listener turns the socket's
 * `_events` into a dictionary (B3, bench/README.md Finding 9). Both fire at most once per socket. */
const SESSION = Symbol('tblab.session');
type SessionSocket = net.Socket & { [SESSION]: MqttSession };
function onOpen(this: SessionSocket): void {
  this[SESSION].opened();
}
function onData(this: SessionSocket, chunk: Buffer): void {
  this[SESSION].data(chunk, chunk.length);
}
function onRead(this: net.Socket, n: number, buf: Buffer): boolean {
  (this as SessionSocket)[SESSION].data(buf, n);
  return true;
}
function onError(this: SessionSocket, e: NodeJS.ErrnoException): void {
  this[SESSION].errored(e);
}
function onClose(this: SessionSocket): void {
  this[SESSION].closed();
}

export class MqttSession implements FrameSink {
  socket: net.Socket | null = null;
  lastTx = 0;
  lastRx = 0;
  /** time of the outstanding PINGREQ, 0 = none */
  pingAt = 0;
  private readonly reader = new FrameReader(this);
  private cause: Cause | null = null;
  private errKind: ErrorKind | null = null;
  /** CONNACK accepted on the current connection */
  private up = false;
  /** the current connection is being closed on purpose */
  private closing = false;

  constructor(
    protected readonly ctx: SessionContext,
    readonly i: number,
    readonly device: WorkloadDevice,
    /** This device's endpoint (MQTT_ENDPOINTS), the same on every reconnect. */
    private readonly target: TransportTarget = ctx.target,
  ) {}

  connect(localAddress: string | undefined): void {
    this.cause = null;
    this.errKind = null;
    this.up = false;
    this.closing = false;
    this.pingAt = 0;
    this.reader.reset();
    const t = this.target;
    // plain TCP reads into a shared buffer (onRead); TLS emits 'data'
    const s = openStream(t, localAddress, t.tls ? undefined : onRead) as SessionSocket;
    s[SESSION] = this;
    s.on(readyEvent(t), onOpen);
    if (t.tls) s.on('data', onData);
    s.on('error', onError);
    s.on('close', onClose);
    this.socket = s;
  }

  /** Ends the connection on purpose (pause, stage ramp-down, stop). */
  close(graceful: boolean): void {
    this.closing = true;
    const s = this.socket;
    if (!s) return;
    // DISCONNECT, then the server closes first (the shard destroys the socket after a grace
    // period if it does not): TIME_WAIT lands on the server, not on our source ports, so the next
    // run's bind() on the same SOURCE_ADDRESSES is not slowed by thousands of them (B3)
    if (graceful && this.up) s.write(this.ctx.disconnectPacket);
    else s.destroy();
  }

  /** Ends the connection as a failure with `cause` (first cause wins). */
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

  /** Writes `buf` when the session is up (an overlay's reply); false otherwise. */
  send(buf: Buffer, now: number): boolean {
    if (!this.up || !this.socket || this.closing) return false;
    this.write(buf, now);
    return true;
  }

  /** Keepalive (MQTT 3.1.1 §3.1.2.10): PINGREQ after `keepMs` without traffic; no PINGRESP within `keepMs` = dead. */
  keepalive(now: number, keepMs: number, pingreq: Buffer): void {
    if (this.pingAt > 0) {
      if (now - this.pingAt > keepMs) this.fail(CAUSES.keepaliveTimeout, null);
    } else if (now - this.lastTx >= keepMs || now - this.lastRx >= keepMs) {
      this.write(pingreq, now);
      this.pingAt = now;
    }
  }

  opened(): void {
    const now = this.ctx.clock.now();
    const d = this.device;
    this.lastRx = now;
    const { keepaliveSec, version } = this.ctx;
    this.write(encodeConnect({ credentials: d.credentials, clientId: `tblab-${d.name}`, keepaliveSec, version }), now);
  }

  data(buf: Buffer, n: number): void {
    this.lastRx = this.ctx.clock.now();
    this.reader.push(buf, n);
  }

  onFrame(type: number, flags: number, buf: Buffer, start: number, len: number): void {
    switch (type) {
      case PacketType.PUBACK: {
        const reason = len >= 3 ? buf[start + 2] : 0;
        const id = len >= 2 ? (buf[start] << 8) | buf[start + 1] : 0;
        this.ctx.host.acked(this.i, id, this.lastRx, reason >= 0x80 ? pubackReason(reason) : null);
        return;
      }
      case PacketType.CONNACK: {
        if (this.up || len < 2) return this.fail(CAUSES.protocolViolation, 'protocol');
        const code = buf[start + 1];
        if (code !== 0) return this.fail(connackCause(code, this.ctx.version === '5'), 'connect-refused');
        this.up = true;
        const o = this.ctx.overlays;
        if (o) this.write(o.subscribePacket, this.lastRx);
        this.ctx.host.connected(this.i, this.lastRx);
        return;
      }
      case PacketType.SUBACK:
        if (!this.up || !this.ctx.overlays) return this.fail(CAUSES.protocolViolation, 'protocol');
        return this.ctx.overlays.suback(this.i, buf, start, len, this.lastRx);
      case PacketType.PUBLISH: {
        const ack = this.up && this.ctx.overlays ? this.ctx.overlays.publish(this.i, flags, buf, start, len, this.lastRx) : false;
        if (ack === false) return this.fail(CAUSES.protocolViolation, 'protocol');
        if (ack) this.write(ack, this.lastRx);
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
    if (this.cause || this.closing) return;
    const c = socketErrorCause(e);
    this.cause = this.up && c.class === 'network' ? { cause: `connection lost (${c.cause})`, class: 'network' } : c;
    this.errKind = this.up ? (e.code === 'EPIPE' ? 'write-error' : null) : 'connect-error';
  }

  closed(): void {
    this.socket = null;
    this.up = false;
    this.ctx.overlays?.down(this.i);
    this.ctx.host.closed(this.i, this.closing ? null : this.cause, this.closing ? null : this.errKind);
  }
}
