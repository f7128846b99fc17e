// The MQTT listener: accepts sockets, keeps the one-session-per-device rule, and applies the
// connection-level faults (drops, stalls) and ThingsBoard's idle-session expiry.
import net from 'node:net';
import type { Store } from '../store.js';
import type { Ingest } from '../ingest.js';
import type { DisconnectReason, EmulatorEvents } from '../events.js';
import type { Faults } from '../faults.js';
import { Session } from './session.js';
import type { GatewaySession } from './gateway.js';
import { RpcBroker } from './rpc.js';
import type { DownlinkCounters } from './downlink.js';
import { ConnectCapacity } from '../connect-capacity.js';

export interface MqttServerOptions {
  /** Largest accepted packet (remaining length), bytes (ThingsBoard: 65536). */
  maxPacketSize: number;
  /** Sessions without any packet for this long are closed, ms (ThingsBoard: 600000). */
  sessionInactivityTimeoutMs: number;
  /** Sockets without a completed CONNECT this long after opening are closed, ms; 0 = never. */
  connectTimeoutMs: number;
  /** Wall clock, ms (activity and idle times; stalls run on real timers). */
  clock: () => number;
  /** Packets queued before the session is set up (ThingsBoard: msg_queue_size_per_device_limit, 100). */
  msgQueueLimit: number;
  /** Answer client-side RPC with its own `{"method","params"}` (a rule chain's reply node); false = refused, counted. */
  clientRpcReply: boolean;
}

export interface MqttCounters {
  /** TCP connections accepted. */
  sockets: number;
  /** Sessions that got CONNACK 0. */
  accepted: number;
  refused: {
    'bad-credentials': number;
    'identifier-rejected': number;
    'fault-refuse': number;
    'connection-cap': number;
    'validation-timeout': number;
  };
  /** Sessions ended, by reason. */
  closed: Partial<Record<DisconnectReason, number>>;
  /** Stalls applied. */
  stalls: number;
  /** Gateway API: child devices created, child connects and disconnects. */
  gateway: { created: number; connects: number; disconnects: number; refused: number };
  /** `v1/gateway/*` publishes from a device without `additionalInfo.gateway = true` (no PUBACK, as ThingsBoard). */
  notGateway: number;
  /** Publishes on ThingsBoard topics the emulator does not imitate, by topic family. */
  unimplemented: Record<string, number>;
  /** Publishes on topics ThingsBoard does not know either. */
  unknownTopic: number;
  /** What went down device and gateway sessions, by QoS, and the clients' PUBACKs (./downlink.ts). */
  downlink: DownlinkCounters;
}

export class MqttServer {
  readonly server: net.Server;
  readonly sessions = new Set<Session>();
  private readonly byDevice = new Map<string, Session>();
  /** Child devices connected through a gateway (v1/gateway/connect): device id → the gateway's session. */
  readonly childSessions = new Map<string, GatewaySession>();
  /** Sessions past CONNACK 0. */
  authenticated = 0;
  /** Server-side RPC to device sessions. */
  readonly rpc = new RpcBroker(this);
  /** `--connect-capacity`: credential validations per second (connect-capacity.ts); off by default. */
  readonly connectCapacity = new ConnectCapacity();
  readonly counters: MqttCounters = {
    sockets: 0,
    accepted: 0,
    refused: { 'bad-credentials': 0, 'identifier-rejected': 0, 'fault-refuse': 0, 'connection-cap': 0, 'validation-timeout': 0 },
    closed: {},
    stalls: 0,
    gateway: { created: 0, connects: 0, disconnects: 0, refused: 0 },
    notGateway: 0,
    unimplemented: {},
    unknownTopic: 0,
    downlink: { qos0: 0, qos1: 0, pubacks: 0 },
  };
  private stalledUntil = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  private stallRepeat: NodeJS.Timeout | null = null;
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    readonly store: Store,
    readonly ingest: Ingest,
    readonly events: EmulatorEvents,
    readonly faults: Faults,
    private readonly opts: MqttServerOptions,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
    const idle = opts.sessionInactivityTimeoutMs;
    const shortest = opts.connectTimeoutMs > 0 ? Math.min(opts.connectTimeoutMs, idle) : idle;
    const every = Math.max(50, Math.min(3000, shortest / 2));
    this.idleTimer = setInterval(() => this.expireIdle(), every);
    this.idleTimer.unref();
    events.on('deviceDeleted', ({ deviceId }) => this.closeDevice(deviceId, 'device-deleted'));
    events.on('attributes', ({ deviceId, scope, values }) => {
      if (scope === 'SHARED_SCOPE') this.pushShared(deviceId, values);
    });
    // JsonConverter.toJson(AttributeUpdateNotificationMsg): deletions go out as {"deleted":[keys]}
    events.on('attributesDeleted', ({ deviceId, scope, keys }) => {
      if (scope === 'SHARED_SCOPE') this.pushShared(deviceId, { deleted: keys });
    });
  }

  /** A shared-attribute update to the device's own session, or through the gateway carrying it. */
  private pushShared(deviceId: string, data: Record<string, unknown>): void {
    this.byDevice.get(deviceId)?.downlink.sharedAttributes(data);
    const g = this.childSessions.get(deviceId);
    const child = g?.children.size ? this.store.registry.devices.get(deviceId) : undefined;
    if (child && !g!.closed) g!.down.attributeUpdate(child, data);
  }

  get clock(): () => number {
    return this.opts.clock;
  }

  get clientRpcReply(): boolean {
    return this.opts.clientRpcReply;
  }

  get msgQueueLimit(): number {
    return this.opts.msgQueueLimit;
  }

  get maxPacketSize(): number {
    return this.opts.maxPacketSize;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, backlog: 4096 }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** A new client socket: from the listener, or a transport worker's relay (workers/relay-socket.ts). */
  accept(socket: net.Socket): void {
    this.counters.sockets++;
    const s = new Session(this, socket);
    this.sessions.add(s);
    socket.on('close', () => this.sessions.delete(s));
    if (this.stalledUntil > Date.now()) socket.pause();
  }

  /** Called by a session after CONNACK 0: the older session of the same device is closed. */
  onAuthenticated(s: Session): void {
    const d = s.device!;
    const older = this.byDevice.get(d.id);
    if (older && older !== s) older.close('session-taken-over');
    this.byDevice.set(d.id, s);
    this.authenticated++;
    this.counters.accepted++;
    const now = this.clock();
    d.state.connects++;
    d.state.lastConnectTime = now;
    d.state.lastActivityTime = now;
    this.store.connected.add(d.id);
    const f = this.faults;
    if (f.dropShare > 0 && Math.random() < f.dropShare) {
      s.dropTimer = setTimeout(() => s.close('fault-drop'), f.dropAfterSec * 1000);
    }
    this.events.emit('connect', { deviceId: d.id, deviceName: d.name, sessionId: s.id, protocolVersion: s.version, remote: s.remote });
  }

  /** Called once per session when it ends (refused CONNECTs included, with no device). */
  onClosed(s: Session, reason: DisconnectReason): void {
    this.counters.closed[reason] = (this.counters.closed[reason] ?? 0) + 1;
    const d = s.device;
    if (!d) return;
    this.authenticated--;
    d.state.lastDisconnectTime = this.clock();
    if (this.byDevice.get(d.id) === s) {
      this.byDevice.delete(d.id);
      this.store.connected.delete(d.id);
    }
    this.events.emit('disconnect', { deviceId: d.id, deviceName: d.name, sessionId: s.id, reason });
  }

  /** The live MQTT session of a device, if any. */
  sessionOf(deviceId: string): Session | undefined {
    return this.byDevice.get(deviceId);
  }

  /** Closes the live session of a device (deletion, credential change). */
  closeDevice(deviceId: string, reason: DisconnectReason): void {
    this.byDevice.get(deviceId)?.close(reason);
  }

  /** Closes a share 0..1 of the live sessions now (an outage as the clients see it); returns how many. */
  dropSessions(share: number): number {
    let n = 0;
    for (const s of [...this.sessions]) {
      if (s.closed || !s.device || Math.random() >= share) continue;
      s.close('fault-drop');
      n++;
    }
    return n;
  }

  /** Stops reading every MQTT socket for `ms` (new ones too); reading resumes afterwards. */
  stall(ms: number): void {
    if (ms <= 0) return;
    this.counters.stalls++;
    this.stalledUntil = Math.max(this.stalledUntil, Date.now() + ms);
    for (const s of this.sessions) s.socket.pause();
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      this.stalledUntil = 0;
      const now = this.clock();
      for (const s of this.sessions) {
        if (s.closed) continue;
        s.lastActivity = now;
        s.socket.resume();
      }
    }, this.stalledUntil - Date.now());
  }

  /** Applies the stall fault: one stall now, or one every `stallEverySec` (first one after that period). */
  scheduleStalls(): void {
    if (this.stallRepeat) clearInterval(this.stallRepeat);
    this.stallRepeat = null;
    const { stallMs, stallEverySec } = this.faults;
    if (stallMs <= 0) return;
    if (stallEverySec > 0) {
      this.stallRepeat = setInterval(() => this.stall(this.faults.stallMs), stallEverySec * 1000);
      this.stallRepeat.unref();
    } else {
      this.stall(stallMs);
    }
  }

  private expireIdle(): void {
    const now = this.clock();
    const limit = now - this.opts.sessionInactivityTimeoutMs;
    const openedBefore = this.opts.connectTimeoutMs > 0 ? now - this.opts.connectTimeoutMs : -Infinity;
    for (const s of this.sessions) {
      if (s.closed || s.socket.isPaused()) continue;
      if (s.version === 0 && s.openedAt < openedBefore) s.close('connect-timeout');
      else if (s.lastActivity < limit) s.close('idle-timeout');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.idleTimer);
    this.rpc.close();
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.stallRepeat) clearInterval(this.stallRepeat);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.close('server-close');
    await closed;
  }
}
