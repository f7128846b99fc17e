// One MQTT connection: framing, CONNECT and authentication, and the hand-written PUBLISH fast path
// (1.5–1.7× less CPU per message than aedes: docs/design.md#measured-design-choices). Rare packets go to mqtt-packet.
import type { Socket } from 'node:net';
import mqttPacket, { type IConnectPacket, type Packet, type Parser } from 'mqtt-packet';
import type { Device } from '../model.js';
import type { DisconnectReason } from '../events.js';
import { parseTelemetry, PayloadError, type TelemetryRow } from '../payload.js';
import { AckBatch, connack, CONNACK_V3, disconnect5, PINGRESP, RC5, V5_REASON } from './packets.js';
import type { MqttServer } from './server.js';
import { clientIdAllowed, refusalCode } from './connect.js';
import { onSubscribe, onTopic, onUnsubscribe } from './topics.js';
import { type TopicType, V1 } from './short-topics.js';
import { GatewaySession, isGateway } from './gateway.js';
import { acceptProvision, isProvisionConnect, onProvisionPacket } from './provision.js';
import { Downlink } from './downlink.js';

const TELEMETRY = Buffer.from('v1/devices/me/telemetry');

type RefusalReason = 'bad-credentials' | 'identifier-rejected' | 'fault-refuse' | 'connection-cap' | 'validation-timeout';

let nextId = 1;

export class Session {
  readonly id = nextId++;
  /** 0 until CONNECT; then 3, 4 or 5. */
  version = 0;
  device: Device | null = null;
  closed = false;
  /** Last packet, ms on the emulator's clock. */
  lastActivity: number;
  /** When the socket was accepted, ms (the connect timeout counts from here). */
  readonly openedAt: number;
  /** Subscribed to shared-attribute updates. */
  attributeUpdates = false;
  /** Subscribed to server-side RPC requests (`v1/devices/me/rpc/request/+`). */
  rpcRequests = false;
  attrTopics: TopicType = V1; // attrSubTopicType: the family of its last attributes subscription (short-topics.ts)
  rpcTopics: TopicType = V1; // rpcSubTopicType: of its last RPC request subscription
  toServerRpcTopics: TopicType = V1; // toServerRpcSubTopicType: of its last client-side RPC request
  /** The gateway API of a device with `additionalInfo.gateway = true`; null otherwise. */
  gateway: GatewaySession | null = null;
  /** What the server writes down this connection: QoS by subscription, one packet id space (./downlink.ts). */
  readonly downlink = new Downlink(this);
  dropTimer: NodeJS.Timeout | null = null;
  private pending: Buffer | null = null;
  /** Packets that arrived between CONNECT and the session's set-up (its validation, connectDelayMs); null = not waiting. */
  private queue: Buffer[] | null = null;
  private parser: Parser | null = null;
  private readonly acks = new AckBatch();

  constructor(
    readonly server: MqttServer,
    readonly socket: Socket,
  ) {
    this.lastActivity = this.openedAt = server.clock();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close('client-closed'));
    socket.on('close', () => this.close('client-closed'));
  }

  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const now = this.server.clock();
    this.lastActivity = now;
    const max = this.server.maxPacketSize;
    let off = 0;
    const len = buf.length;
    while (off + 2 <= len && !this.closed) {
      const h = buf[off];
      // remaining length: 1–4 byte varint
      let rem = 0;
      let mul = 1;
      let p = off + 1;
      let complete = false;
      while (p < len) {
        const b = buf[p++];
        rem += (b & 0x7f) * mul;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
        mul *= 128;
        if (mul > 2097152) return this.close('protocol-error');
      }
      if (!complete) break;
      if (rem > max) return this.close('oversized');
      const end = p + rem;
      if (end > len) break;
      if (h >> 4 === 3 && this.device) this.onPublish(buf, h, p, end, now);
      else if (this.queue) this.enqueue(buf.subarray(off, end));
      else this.onControl(buf.subarray(off, end));
      off = end;
    }
    if (this.closed) return;
    this.pending = off < len ? Buffer.from(buf.subarray(off)) : null;
    if (this.acks.size) this.flushAcks();
  }

  /**
   * MqttTransportHandler.enqueueRegularSessionMsg: packets before the session is set up wait in a queue; one
   * more than `msg_queue_size_per_device_limit` closes the session (v5 DISCONNECT 0x97).
   */
  private enqueue(packet: Buffer): void {
    if (this.queue!.length >= this.server.msgQueueLimit) return this.close('queue-full');
    this.queue!.push(Buffer.from(packet));
  }

  private flushAcks(): void {
    const out = this.acks.take();
    const delay = this.server.faults.ackLatencyMs;
    if (delay > 0) setTimeout(() => this.socket.writable && this.socket.write(out), delay);
    else this.socket.write(out);
  }

  private onPublish(buf: Buffer, h: number, p: number, end: number, now: number): void {
    const qos = (h >> 1) & 3;
    const topicLen = (buf[p] << 8) | buf[p + 1];
    const topicStart = p + 2;
    const topicEnd = topicStart + topicLen;
    p = topicEnd;
    let packetId = 0;
    if (qos > 0) {
      packetId = (buf[p] << 8) | buf[p + 1];
      p += 2;
    }
    if (this.version === 5) {
      // skip the properties (varint length + bytes)
      let plen = 0;
      let mul = 1;
      let b: number;
      do {
        b = buf[p++];
        plen += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80);
      p += plen;
    }
    const d = this.device!;
    if (topicLen === TELEMETRY.length && buf.compare(TELEMETRY, 0, topicLen, topicStart, topicEnd) === 0) {
      let rows: TelemetryRow[];
      try {
        rows = parseTelemetry(buf.toString('utf8', p, end), now);
      } catch (e) {
        if (e instanceof PayloadError) return this.invalidPayload(qos, packetId);
        throw e;
      }
      if (!this.server.ingest.admit(d, rows, now, 'mqtt')) return this.close('rate-limited');
      if (this.server.ingest.capacity.on) return this.server.ingest.capacity.offer(this, qos > 0 ? packetId : 0, d, rows, now);
      if (qos > 0) this.acks.add(packetId);
      this.server.ingest.telemetry(d, rows, now);
      return;
    }
    const topic = buf.toString('utf8', topicStart, topicEnd);
    onTopic(this, topic, buf.toString('utf8', p, end), qos, packetId, now);
  }

  /** Queues a PUBACK for this read's batch (reason: v5 only). */
  ack(packetId: number, reason = 0): void {
    this.acks.add(packetId, reason);
  }

  invalidPayload(qos: number, packetId: number): void {
    if (this.version === 5 && qos > 0) this.acks.add(packetId, RC5.PAYLOAD_FORMAT_INVALID);
    else this.close('invalid-payload');
  }

  send(packet: Packet): void {
    if (this.acks.size) this.flushAcks();
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.version }));
  }

  private onControl(bytes: Buffer): void {
    if (!this.parser) {
      this.parser = mqttPacket.parser({ protocolVersion: 4 });
      this.parser.on('packet', (pk: Packet) => this.onPacket(pk));
      this.parser.on('error', () => this.close('protocol-error'));
    }
    this.parser.parse(bytes);
  }

  private onPacket(pk: Packet): void {
    if (this.closed) return;
    if (this.version === 0) {
      if (pk.cmd !== 'connect') return this.close('protocol-error');
      return this.onConnect(pk);
    }
    if (!this.device) return onProvisionPacket(this, pk); // after CONNECT only a provisioning session has no device
    const d = this.device;
    switch (pk.cmd) {
      case 'pingreq':
        d.state.lastActivityTime = this.server.clock();
        this.socket.write(PINGRESP);
        return;
      case 'disconnect':
        return this.close('client-disconnect');
      case 'subscribe':
        d.state.lastActivityTime = this.server.clock();
        return onSubscribe(this, pk);
      case 'unsubscribe':
        return onUnsubscribe(this, pk);
      case 'connect':
        return this.close('protocol-error');
      case 'puback':
        return void this.server.counters.downlink.pubacks++; // of a QoS 1 downlink: counted, never retransmitted
      default:
        return; // a PUBLISH only before CONNECT completes (impossible here); PUBREC…: ThingsBoard ignores them too
    }
  }

  private refuse(pk: IConnectPacket, code: number, reason: RefusalReason, username?: string): void {
    // MqttTransportHandler.createMqttConnAckMsg sets sessionPresent = !cleanSession on refusals too
    this.socket.write(connack(this.version, pk.clean === false, code));
    this.server.counters.refused[reason]++;
    this.server.events.emit('connectRefused', { returnCode: code, reason, username });
    this.closed = true;
    this.endSocket();
  }

  private onConnect(pk: IConnectPacket): void {
    const v = pk.protocolVersion ?? 4;
    this.version = v === 3 || v === 5 ? v : 4;
    (this.parser as unknown as { settings: { protocolVersion: number } }).settings.protocolVersion = this.version;
    const v5 = this.version === 5;
    const f = this.server.faults;
    const clientId = pk.clientId ?? '';
    if (!clientIdAllowed(this.version, clientId)) return this.close('protocol-error');
    if (isProvisionConnect(pk)) return acceptProvision(this, pk);
    if (f.maxConnections > 0 && this.server.authenticated > f.maxConnections - 1) {
      return this.refuse(pk, v5 ? RC5.QUOTA_EXCEEDED : CONNACK_V3.SERVER_UNAVAILABLE, 'connection-cap');
    }
    if (f.refuseConnects > 0 && Math.random() < f.refuseConnects) {
      return this.refuse(pk, v5 ? RC5.SERVER_UNAVAILABLE : CONNACK_V3.SERVER_UNAVAILABLE, 'fault-refuse');
    }
    // credential validation is asynchronous in ThingsBoard (a transport API round trip); meanwhile packets queue
    const cc = this.server.connectCapacity;
    const validation = cc.on ? cc.admit(Date.now()) : 0;
    // MqttTransportHandler.processAuthTokenConnect: a timed-out request → onError → CONNACK "server unavailable"
    const code = v5 ? RC5.SERVER_UNAVAILABLE : CONNACK_V3.SERVER_UNAVAILABLE;
    const timedOut = () => !this.closed && this.refuse(pk, code, 'validation-timeout');
    const delay = validation === null ? cc.timeoutMs : validation + f.connectDelayMs;
    if (delay <= 0) return this.authenticate(pk);
    this.queue = [];
    setTimeout(validation === null ? timedOut : () => this.authenticate(pk), delay);
  }

  private authenticate(pk: IConnectPacket): void {
    if (this.closed) return;
    const v5 = this.version === 5;
    const username = pk.username ?? '';
    const clientId = pk.clientId ?? '';
    const password = pk.password ? pk.password.toString() : '';
    const reg = this.server.store.registry;
    let d: Device | undefined;
    if (username) d = reg.byToken.get(username) ?? reg.findBasic(username, clientId, password);
    else if (clientId) d = reg.findBasic('', clientId, password);
    if (!d) {
      const r = refusalCode(v5, pk.username !== undefined, pk.password !== undefined, clientId);
      return this.refuse(pk, r.code, r.identifier ? 'identifier-rejected' : 'bad-credentials', username || undefined);
    }
    // ThingsBoard quirk: sessionPresent = !cleanSession
    this.socket.write(connack(this.version, pk.clean === false, 0));
    this.device = d;
    if (isGateway(d)) this.gateway = new GatewaySession(this);
    this.server.onAuthenticated(this);
    const queued = this.queue;
    this.queue = null;
    if (queued?.length) {
      this.pending = Buffer.concat(this.pending ? [...queued, this.pending] : queued);
      this.onData(Buffer.alloc(0));
    }
  }

  /** Ends the session; a server-side `reason` sends the v5 DISCONNECT ThingsBoard would. */
  close(reason: DisconnectReason): void {
    if (this.closed) return;
    this.closed = true;
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.gateway?.close(this.server.clock());
    const serverSide = reason !== 'client-closed' && reason !== 'client-disconnect';
    if (serverSide && this.acks.size) this.flushAcks();
    const rc = V5_REASON[reason];
    if (serverSide && this.version === 5 && rc !== undefined && this.socket.writable) this.socket.write(disconnect5(rc));
    if (reason === 'fault-drop' || reason === 'server-close' || reason === 'client-closed') this.socket.destroy();
    else this.endSocket();
    this.server.onClosed(this, reason);
  }

  private endSocket(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}
