// One gateway device's MQTT connection as the gateway workload holds it (mqtt-gateway.ts): the
// session (an MqttSession whose host is the workload's gateway handler, with the gateway as row),
// the children it carries, its open telemetry batch and the publishes awaiting a PUBACK.
import type { Cause, ErrorKind } from './causes.js';
import type { GatewayBatch } from './gateway-batch.js';
import { PendingAcks, PubKind, type PendingPool, type PendingPub } from './gateway-acks.js';
import type { GatewayCounters } from './gateway-stats.js';
import type { MqttVersion } from './packets.js';
import { MqttSession, type SessionContext } from './mqtt-session.js';
import type { TransportTarget } from './transport.js';
import { PacketType } from './frame-reader.js';
import { CAUSES } from './causes.js';
import { encodePuback, readPublish } from './packets-down.js';
import { GATEWAY_RPC_TOPIC } from './gateway-rpc.js';
import { encodeQos1Publish, GATEWAY_ATTRIBUTES_TOPIC, GATEWAY_DISCONNECT_TOPIC } from './gateway-packets.js';
import type { WorkloadDevice } from './workload.js';

export const GW = { IDLE: 0, CONNECTING: 1, UP: 2, CLOSING: 3 } as const;

/**
 * A server PUBLISH the gateway answers: `v1/gateway/disconnect` names a child the server ended;
 * `v1/gateway/rpc` carries a request for a child (./gateway-rpc.ts), after the SUBACK of that subscription.
 */
export interface GatewayInbox {
  childDisconnected(g: number, child: string, reason: number | null): void;
  rpcSubscribed(g: number, granted: boolean, at: number): void;
  rpcRequest(g: number, payload: string, at: number): void;
}

/**
 * The device session, plus the PUBLISH packets a gateway may receive: ThingsBoard writes
 * `v1/gateway/disconnect {"device", "reason"}` to an MQTT 5 gateway when it ends one child's
 * session (AbstractGatewaySessionHandler#closeDeviceSession); a plain device session treats any
 * PUBLISH as a protocol violation.
 */
export class GatewaySession extends MqttSession {
  constructor(
    ctx: SessionContext,
    g: number,
    gateway: WorkloadDevice,
    private readonly inbox: GatewayInbox,
    target: TransportTarget,
  ) {
    super(ctx, g, gateway, target);
  }

  override onFrame(type: number, flags: number, buf: Buffer, start: number, len: number): void {
    if (type === PacketType.SUBACK) {
      // its only SUBSCRIBE: `v1/gateway/rpc` (return code ≥ 0x80 = refused)
      const p = start + 2 + (this.ctx.version === '5' ? 1 + (buf[start + 2] ?? 0) : 0);
      return this.inbox.rpcSubscribed(this.i, p < start + len && buf[p] < 0x80, this.lastRx);
    }
    if (type !== PacketType.PUBLISH) return super.onFrame(type, flags, buf, start, len);
    const pk = readPublish(flags, buf, start, len, this.ctx.version);
    if (!pk) return this.fail(CAUSES.protocolViolation, 'protocol');
    if (pk.packetId) this.socket?.write(encodePuback(pk.packetId));
    if (pk.topic === GATEWAY_RPC_TOPIC) return this.inbox.rpcRequest(this.i, pk.payload, this.lastRx);
    if (pk.topic !== GATEWAY_DISCONNECT_TOPIC) return;
    try {
      const body = JSON.parse(pk.payload) as { device?: unknown; reason?: unknown };
      if (typeof body.device === 'string') {
        this.inbox.childDisconnected(this.i, body.device, typeof body.reason === 'number' ? body.reason : null);
      }
    } catch {
      // not the documented shape: nothing to act on
    }
  }
}

/** What every gateway connection of one workload shares. */
export interface LinkShared {
  readonly pool: PendingPool;
  readonly c: GatewayCounters;
  readonly qos: 0 | 1;
  readonly version: MqttVersion;
  /** Plain TCP: a write the socket took whole has released the batch buffer for reuse. */
  readonly reuseWrites: boolean;
}

export class GatewayLink {
  state: (typeof GW)[keyof typeof GW] = GW.IDLE;
  /** Children in any state but NONE (waiting, joining, joined, leaving). */
  active = 0;
  /** The current close was asked for by the workload (its last child left). */
  closingOnPurpose = false;
  /** The housekeeping round this gateway last ran in (its children share one keepalive). */
  houseAt = -1;
  /** Counted in `gatewaysConnected` (from its CONNACK until its connection is gone). */
  counted = false;
  /** In the workload's list of gateways with a batch to write at the end of the tick. */
  dirty = false;
  /** The telemetry batch being built: its child rows and their ack ids (QoS 1). */
  current: PendingPub | null = null;
  /** Its `v1/gateway/rpc` subscription was granted on the current connection (./gateway-rpc.ts). */
  rpcUp = false;
  /** Children whose connect was acknowledged and whose attributes are not sent yet. */
  readonly attributes: number[] = [];
  readonly acks: PendingAcks;
  readonly session: GatewaySession;
  closeTimer: NodeJS.Timeout | null = null;
  /** Source address of the last connect (a reconnect after a close on purpose uses it again). */
  localAddress: string | undefined;

  constructor(
    readonly g: number,
    readonly device: WorkloadDevice,
    /** Shard rows of its children, ascending. */
    readonly rows: Int32Array,
    readonly batch: GatewayBatch,
    private readonly shared: LinkShared,
    session: { ctx: SessionContext; target: TransportTarget },
    inbox: GatewayInbox,
  ) {
    this.acks = new PendingAcks(shared.pool);
    this.session = new GatewaySession(session.ctx, g, device, inbox, session.target);
  }

  /** Writes the open telemetry batch as one PUBLISH (QoS 1: tracked with its children until the PUBACK). */
  writeBatch(now: number): void {
    const b = this.batch;
    if (!b.open) return;
    const { c, pool } = this.shared;
    if (this.state !== GW.UP) {
      // the connection ended inside this tick: its children were reported closed, these messages lost
      c.discarded += b.entries;
      b.discard();
      if (this.current) pool.put(this.current);
      this.current = null;
      return;
    }
    c.batches++;
    c.publishes++;
    const id = this.shared.qos ? this.acks.nextId() : 0;
    const packet = b.take(id);
    if (this.current) {
      this.current.sentAt = now;
      this.acks.track(id, this.current);
      this.current = null;
    }
    const s = this.session;
    s.write(packet, now);
    b.written(this.shared.reuseWrites && s.socket!.writableLength === 0);
  }

  /** A control message (connect, disconnect) about child row i at QoS 1; returns its packet id. */
  send(kind: PubKind, topic: string, body: string, i: number, now: number): number {
    const id = this.acks.nextId();
    const p = this.shared.pool.get(kind);
    p.add(i, 0);
    p.sentAt = now;
    this.acks.track(id, p);
    this.shared.c.publishes++;
    this.session.write(encodeQos1Publish(topic, body, id, this.shared.version), now);
    return id;
  }

  /** Client attributes of the children that just connected, one publish: `{"<child>":{"gateway","index"}}`. */
  sendAttributes(child: (i: number) => { name: string; index: number }, now: number): void {
    const body: Record<string, { gateway: string; index: number }> = {};
    const p = this.shared.pool.get(PubKind.ATTRIBUTES);
    for (const i of this.attributes) {
      const d = child(i);
      body[d.name] = { gateway: this.device.name, index: d.index };
      p.add(i, 0);
    }
    this.shared.c.attributes += this.attributes.length;
    this.shared.c.publishes++;
    this.attributes.length = 0;
    const id = this.acks.nextId();
    p.sentAt = now;
    this.acks.track(id, p);
    this.session.write(encodeQos1Publish(GATEWAY_ATTRIBUTES_TOPIC, JSON.stringify(body), id, this.shared.version), now);
  }

  /** The connection is gone: nothing open, nothing pending (the children's own windows count their losses). */
  reset(): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.rpcUp = false;
    this.batch.discard();
    if (this.current) this.shared.pool.put(this.current);
    this.current = null;
    this.attributes.length = 0;
    this.acks.drain(() => {});
  }

  /** Unsent bytes queued in the gateway's socket. */
  buffered(): number {
    return this.session.socket?.writableLength ?? 0;
  }

  fail(cause: Cause, kind: ErrorKind | null): void {
    this.session.fail(cause, kind);
  }
}
