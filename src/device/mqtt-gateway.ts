// The gateway workload (contract in ./workload.ts): rows are child devices, carried by gateway
// devices, one MQTT connection per gateway, speaking ThingsBoard's gateway API
// (https://thingsboard.io/docs/reference/gateway-mqtt-api/, AbstractGatewaySessionHandler):
//
//   connect(i)  the child's gateway connects (first child) or is up: `v1/gateway/connect {"device"}`
//               at QoS 1; its PUBACK (ThingsBoard found or created the device) = the row is connected
//   append(i)   the child's message joins its gateway's telemetry batch `{"<child>":[{"ts","values"}]}`
//   flush(i)    marks the gateway; every marked gateway writes its batch as ONE PUBLISH when the
//               shard's tick returns (a microtask), so each gateway sends one message per tick
//   PUBACK      of a batch → `acked` of every child message in it; of a connect → `connected`, then
//               the child's client attributes (`v1/gateway/attributes`, batched per gateway)
//   close(i)    `v1/gateway/disconnect {"device"}`, its PUBACK ends the row; the last child leaving
//               closes the gateway connection
//   a dropped gateway connection → `closed` of each of its children, with its cause.
import { readFileSync } from 'node:fs';
import { createHistogram, recordMs, type Histogram } from '../metrics/hdr.js';
import type { Cause, ErrorKind } from './causes.js';
import { PubKind, PendingPool } from './gateway-acks.js';
import { GatewayBatch, QuotedNames } from './gateway-batch.js';
import { GatewayLink, GW, type GatewayInbox } from './gateway-link.js';
import {
  childMessage,
  encodeQos1Publish,
  GATEWAY_ATTRIBUTES_TOPIC,
  GATEWAY_CONNECT_TOPIC,
  GATEWAY_DISCONNECT_TOPIC,
} from './gateway-packets.js';
import { DISCONNECT_V311, DISCONNECT_V5, PINGREQ } from './packets.js';
import { createPayloadSource } from './payload.js';
import type { MqttTelemetrySettings } from './mqtt-telemetry.js';
import type { SessionContext } from './mqtt-session.js';
import { GatewayStats, type GatewayStatsSnapshot } from './gateway-stats.js';
import type { Workload, WorkloadClock, WorkloadDevice, WorkloadHost } from './workload.js';

/** A gateway socket holding this many unsent bytes makes its children skip their messages. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** A gateway closed on purpose is destroyed if the server has not closed its side by then, ms. */
const CLOSE_GRACE_MS = 2000;

/** A child row: the device it is, and the gateway that carries it. */
export interface GatewayChildDevice extends WorkloadDevice {
  /** The gateway device (its credentials are the row's credentials). */
  gateway: { name: string; index: number };
}

/** Child states, workload side. */
const CH = { NONE: 0, WAITING: 1, JOINING: 2, JOINED: 3, LEAVING: 4 } as const;

export class MqttGateway implements Workload, GatewayInbox {
  readonly stats: GatewayStats;
  private readonly links: GatewayLink[] = [];
  private readonly linkOf: Int32Array;
  private readonly child: Uint8Array;
  /** Packet id of the row's connect or disconnect in flight. */
  private readonly controlId: Int32Array;
  /** Last `ts` written per row: a child's points never share a timestamp (ThingsBoard keeps one per key and ts). */
  private readonly lastTs: Float64Array;
  /** GatewayBatch.serial of the batch each row last appeared in. */
  private readonly lastSerial: Float64Array;
  private readonly byName = new Map<string, number>();
  private readonly pool = new PendingPool();
  private readonly latency: Histogram = createHistogram();
  private readonly dirty: number[] = [];
  private flushQueued = false;
  private readonly closing: number[] = [];
  private readonly closingCause: Array<Cause | null> = [];
  private readonly closingKind: Array<ErrorKind | null> = [];
  private closeQueued = false;
  private readonly keepMs: number;
  private readonly reuseWrites: boolean;
  private readonly flushAll = () => this.writeBatches();
  private readonly reportClosed = () => this.flushClosed();

  constructor(
    private readonly host: WorkloadHost,
    private readonly clock: WorkloadClock,
    private readonly devices: readonly GatewayChildDevice[],
    private readonly settings: MqttTelemetrySettings,
  ) {
    const n = devices.length;
    this.linkOf = new Int32Array(n);
    this.child = new Uint8Array(n);
    this.controlId = new Int32Array(n);
    this.lastTs = new Float64Array(n);
    this.lastSerial = new Float64Array(n).fill(-1);
    const t = settings.tls;
    const tls = t && {
      insecure: t.insecure,
      ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
      ...(t.certFile ? { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile!) } : {}),
    };
    const gatewayHost: WorkloadHost = {
      connected: (g) => this.gatewayUp(g),
      acked: (g, id, at, refused) => this.gatewayAck(g, id, at, refused),
      closed: (g, cause, kind) => this.gatewayClosed(g, cause, kind),
    };
    const ctx: SessionContext = {
      host: gatewayHost,
      clock,
      target: { host: settings.host, port: settings.port, tls },
      version: settings.mqttVersion,
      keepaliveSec: settings.keepaliveSec,
      disconnectPacket: settings.mqttVersion === '5' ? DISCONNECT_V5 : DISCONNECT_V311,
    };
    this.keepMs = settings.keepaliveSec * 1000;
    this.reuseWrites = !t;
    const payload = createPayloadSource(devices, settings.payloadTemplate);
    const names = new QuotedNames(devices.map((d) => d.name));
    const groups = new Map<string, number[]>();
    devices.forEach((d, i) => {
      this.byName.set(d.name, i);
      const rows = groups.get(d.gateway.name) ?? [];
      if (!rows.length) groups.set(d.gateway.name, rows);
      rows.push(i);
    });
    for (const rows of groups.values()) {
      const g = this.links.length;
      const first = devices[rows[0]];
      const gateway: WorkloadDevice = { name: first.gateway.name, index: first.gateway.index, credentials: first.credentials };
      const batch = new GatewayBatch(settings.qos, settings.mqttVersion, payload, names);
      this.links.push(new GatewayLink(g, gateway, Int32Array.from(rows), batch, this.pool, ctx, this));
      for (const i of rows) this.linkOf[i] = g;
    }
    this.stats = new GatewayStats(this.links.length, n);
  }

  // ── the Workload contract ───────────────────────────────────────────────────────────────────

  connect(i: number, localAddress: string | undefined): void {
    const link = this.links[this.linkOf[i]];
    this.child[i] = CH.WAITING;
    link.active++;
    link.localAddress = localAddress;
    if (link.state === GW.IDLE) {
      link.state = GW.CONNECTING;
      link.closingOnPurpose = false;
      link.session.connect(localAddress);
    } else if (link.state === GW.UP) this.sendConnects(link, [i]);
    // CONNECTING: sent when the gateway is up; CLOSING: the gateway reconnects once closed
  }

  backedUp(i: number): boolean {
    return this.links[this.linkOf[i]].buffered() > MAX_BUFFERED_BYTES;
  }

  append(i: number, seq: number, ts: number, ackId: number): number {
    const link = this.links[this.linkOf[i]];
    const b = link.batch;
    // a second entry array for a child in one batch would repeat its JSON key: send the batch first
    if (b.open && this.lastSerial[i] === b.serial && !b.isOpenRow(i)) this.writeBatch(link);
    if (ts <= this.lastTs[i]) ts = this.lastTs[i] + 1;
    this.lastTs[i] = ts;
    const bytes = b.append(i, seq, ts);
    this.lastSerial[i] = b.serial;
    if (this.settings.qos) (link.current ??= this.pool.get(PubKind.TELEMETRY)).add(i, ackId);
    this.stats.c.sent++;
    return bytes;
  }

  flush(i: number): void {
    const link = this.links[this.linkOf[i]];
    link.batch.closeRow();
    if (link.dirty) return;
    link.dirty = true;
    this.dirty.push(link.g);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushAll);
    }
  }

  housekeep(i: number, now: number): void {
    const link = this.links[this.linkOf[i]];
    if (link.houseAt === now) return;
    link.houseAt = now;
    if (this.keepMs > 0 && link.state === GW.UP) link.session.keepalive(now, this.keepMs, PINGREQ);
  }

  close(i: number, graceful: boolean): void {
    const link = this.links[this.linkOf[i]];
    const st = this.child[i];
    if (st === CH.NONE) return;
    if (st === CH.JOINED && link.state === GW.UP) {
      this.writeBatch(link); // its last messages go before its goodbye
      const id = this.sendControl(link, PubKind.DISCONNECT, GATEWAY_DISCONNECT_TOPIC, childMessage(this.devices[i].name), i);
      this.stats.c.disconnects++;
      if (graceful) {
        this.child[i] = CH.LEAVING;
        this.controlId[i] = id;
        return;
      }
    }
    this.leave(link, i, null, null);
  }

  abort(i: number, cause: Cause, kind: ErrorKind | null): void {
    const link = this.links[this.linkOf[i]];
    if (this.child[i] === CH.NONE) return;
    // the gateway itself is not up: its connection fails, and with it every child it carries
    if (link.state !== GW.UP) return link.fail(cause, kind);
    this.leave(link, i, cause, kind);
  }

  /** The workload's counters, gauges and the interval's batch-latency histogram (for the stats channel). */
  takeStats(): GatewayStatsSnapshot {
    let gatewaysConnected = 0;
    let childrenConnected = 0;
    for (const l of this.links) if (l.state === GW.UP) gatewaysConnected++;
    for (let i = 0; i < this.child.length; i++) if (this.child[i] === CH.JOINED) childrenConnected++;
    return this.stats.take(this.latency, { gatewaysConnected, childrenConnected });
  }

  // ── what a gateway connection reports ───────────────────────────────────────────────────────

  private gatewayUp(g: number): void {
    const link = this.links[g];
    link.state = GW.UP;
    this.stats.c.gatewayConnects++;
    if (link.active === 0) return this.closeGateway(link); // every child left while it connected
    const waiting: number[] = [];
    for (const i of link.rows) if (this.child[i] === CH.WAITING) waiting.push(i);
    this.sendConnects(link, waiting);
  }

  private gatewayAck(g: number, id: number, at: number, refused: string | null): void {
    const link = this.links[g];
    const p = link.acks.take(id);
    if (!p) return; // answered before (older ThingsBoard answers once per child), or given up on
    const c = this.stats.c;
    switch (p.kind) {
      case PubKind.TELEMETRY:
        recordMs(this.latency, at - p.sentAt);
        c.batchesAcked++;
        if (refused === null) c.acked += p.n;
        else c.refused += p.n;
        for (let k = 0; k < p.n; k++) this.host.acked(p.rows[k], p.ids[k], at, refused);
        break;
      case PubKind.CONNECT: {
        const i = p.rows[0];
        if (this.child[i] !== CH.JOINING || this.controlId[i] !== id) break;
        if (refused !== null) {
          c.connectsRefused++;
          this.leave(link, i, { cause: `gateway connect refused: ${refused}`, class: 'server' }, 'connect-refused', false);
          break;
        }
        c.connectsAcked++;
        this.child[i] = CH.JOINED;
        this.host.connected(i, at);
        link.attributes.push(i);
        this.flush(i);
        break;
      }
      case PubKind.DISCONNECT: {
        const i = p.rows[0];
        if (this.child[i] === CH.LEAVING && this.controlId[i] === id) this.leave(link, i, null, null, false);
        break;
      }
      case PubKind.ATTRIBUTES:
        if (refused === null) c.attributesAcked += p.n;
        break;
    }
    this.pool.put(p);
  }

  private gatewayClosed(g: number, cause: Cause | null, kind: ErrorKind | null): void {
    const link = this.links[g];
    const wasUp = link.state === GW.UP;
    const onPurpose = link.closingOnPurpose;
    link.state = GW.IDLE;
    link.closingOnPurpose = false;
    if (link.closeTimer) clearTimeout(link.closeTimer);
    link.closeTimer = null;
    link.batch.discard();
    if (link.current) this.pool.put(link.current);
    link.current = null;
    link.attributes.length = 0;
    link.acks.drain(() => {}); // the children's own windows count their lost messages
    if (wasUp && !onPurpose) this.stats.c.gatewayDrops++;
    if (onPurpose) {
      // children that asked to connect while it closed: open it again for them
      if (link.active > 0) {
        link.state = GW.CONNECTING;
        link.session.connect(link.localAddress);
      }
      return;
    }
    for (const i of link.rows) {
      const st = this.child[i];
      if (st === CH.NONE) continue;
      this.child[i] = CH.NONE;
      this.host.closed(i, st === CH.LEAVING ? null : cause, st === CH.LEAVING ? null : kind);
    }
    link.active = 0;
  }

  childDisconnected(g: number, name: string, reason: number | null): void {
    const i = this.byName.get(name);
    const link = this.links[g];
    if (i === undefined || this.linkOf[i] !== g || this.child[i] === CH.NONE) return;
    this.stats.c.childrenDropped++;
    const code = reason === null ? '' : ` (0x${reason.toString(16).padStart(2, '0')})`;
    this.leave(link, i, { cause: `gateway child disconnected by the server${code}`, class: 'server' }, null, false);
  }

  // ── writing ─────────────────────────────────────────────────────────────────────────────────

  private writeBatches(): void {
    this.flushQueued = false;
    for (const g of this.dirty) {
      const link = this.links[g];
      link.dirty = false;
      this.writeBatch(link);
      if (link.attributes.length && link.state === GW.UP) this.sendAttributes(link);
    }
    this.dirty.length = 0;
  }

  /** Writes the gateway's open batch as one PUBLISH (QoS 1: tracked until its PUBACK). */
  private writeBatch(link: GatewayLink): void {
    const b = link.batch;
    if (!b.open) return;
    const c = this.stats.c;
    if (link.state !== GW.UP) {
      // its connection ended inside this tick: the children were reported closed, their messages lost
      c.discarded += b.entries;
      b.discard();
      if (link.current) this.pool.put(link.current);
      link.current = null;
      return;
    }
    const now = this.clock.now();
    c.batches++;
    const id = this.settings.qos ? link.acks.nextId() : 0;
    const packet = b.take(id);
    if (link.current) {
      link.current.sentAt = now;
      link.acks.track(id, link.current);
      link.current = null;
    }
    const s = link.session;
    s.write(packet, now);
    b.written(this.reuseWrites && s.socket!.writableLength === 0);
  }

  private sendConnects(link: GatewayLink, rows: readonly number[]): void {
    if (!rows.length) return;
    const s = link.session.socket!;
    s.cork();
    for (const i of rows) {
      this.child[i] = CH.JOINING;
      this.controlId[i] = this.sendControl(link, PubKind.CONNECT, GATEWAY_CONNECT_TOPIC, childMessage(this.devices[i].name), i);
    }
    this.stats.c.connects += rows.length;
    s.uncork();
  }

  /** Client attributes of the children that just connected, one publish: `{"<child>":{"gateway","index"}}`. */
  private sendAttributes(link: GatewayLink): void {
    const body: Record<string, { gateway: string; index: number }> = {};
    for (const i of link.attributes) body[this.devices[i].name] = { gateway: link.device.name, index: this.devices[i].index };
    const p = this.pool.get(PubKind.ATTRIBUTES);
    for (const i of link.attributes) p.add(i, 0);
    this.stats.c.attributes += link.attributes.length;
    link.attributes.length = 0;
    const id = link.acks.nextId();
    link.acks.track(id, p);
    link.session.write(encodeQos1Publish(GATEWAY_ATTRIBUTES_TOPIC, JSON.stringify(body), id, this.settings.mqttVersion), this.clock.now());
  }

  private sendControl(link: GatewayLink, kind: PubKind, topic: string, body: string, i: number): number {
    const id = link.acks.nextId();
    const p = this.pool.get(kind);
    p.add(i, 0);
    p.sentAt = this.clock.now();
    link.acks.track(id, p);
    link.session.write(encodeQos1Publish(topic, body, id, this.settings.mqttVersion), p.sentAt);
    return id;
  }

  // ── children leaving ────────────────────────────────────────────────────────────────────────

  /**
   * Row i's session on the gateway ends: `closed` is reported — later (`defer`, when inside a call
   * from the shard, which must not hear back synchronously) or now (inside an I/O event).
   */
  private leave(link: GatewayLink, i: number, cause: Cause | null, kind: ErrorKind | null, defer = true): void {
    this.child[i] = CH.NONE;
    link.active--;
    if (defer) {
      this.closing.push(i);
      this.closingCause.push(cause);
      this.closingKind.push(kind);
      if (!this.closeQueued) {
        this.closeQueued = true;
        setImmediate(this.reportClosed);
      }
    } else this.host.closed(i, cause, kind);
    if (link.active === 0) this.closeGateway(link);
  }

  private flushClosed(): void {
    this.closeQueued = false;
    for (let k = 0; k < this.closing.length; k++) this.host.closed(this.closing[k], this.closingCause[k], this.closingKind[k]);
    this.closing.length = this.closingCause.length = this.closingKind.length = 0;
  }

  /** The gateway's last child left: say goodbye (or stop connecting) and let the server close first. */
  private closeGateway(link: GatewayLink): void {
    if (link.state !== GW.UP && link.state !== GW.CONNECTING) return;
    this.writeBatch(link);
    const up = link.state === GW.UP;
    link.state = GW.CLOSING;
    link.closingOnPurpose = true;
    link.session.close(up);
    if (up) link.closeTimer = setTimeout(() => link.session.close(false), CLOSE_GRACE_MS).unref();
  }
}
