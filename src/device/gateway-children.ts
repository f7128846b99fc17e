// The gateway workload's children on their gateway connections (mqtt-gateway.ts is the Workload
// built on it): each child row's state, what a gateway connection reports (up, a PUBACK, closed, a
// child ended by the server) turned into the rows' `connected`/`acked`/`closed`, and children
// joining and leaving (`v1/gateway/connect` / `disconnect`, the last one out closes the gateway).
import { recordMs, type Histogram } from '../metrics/hdr.js';
import type { Cause, ErrorKind } from './causes.js';
import { PubKind, PendingPool } from './gateway-acks.js';
import { GW, type GatewayInbox, type GatewayLink } from './gateway-link.js';
import { childMessage, GATEWAY_CONNECT_TOPIC } from './gateway-packets.js';
import { DeferredCloses } from './deferred-closes.js';
import { BATCH_HISTOGRAM, type GatewayCounters } from './gateway-stats.js';
import type { WorkloadClock, WorkloadContext, WorkloadDevice, WorkloadHost } from './workload.js';
import { GatewayRpc } from './gateway-rpc.js';
import type { MqttVersion } from './packets.js';

/** A gateway closed on purpose is destroyed if the server has not closed its side by then, ms. */
const CLOSE_GRACE_MS = 2000;

/** A child row: the device it is, and the gateway that carries it. */
export interface GatewayChildDevice extends WorkloadDevice {
  /** The gateway device (its credentials are the row's credentials). */
  gateway: { name: string; index: number };
}

/** Child states, workload side. */
export const CH = { NONE: 0, WAITING: 1, JOINING: 2, JOINED: 3, LEAVING: 4 } as const;

export abstract class GatewayChildren implements GatewayInbox {
  /** This shard's counters of `workloads.gateway` (its meter's). */
  protected readonly c: GatewayCounters;
  protected readonly links: GatewayLink[] = [];
  protected readonly linkOf: Int32Array;
  protected readonly child: Uint8Array;
  /** Packet id of the row's connect or disconnect in flight. */
  protected readonly controlId: Int32Array;
  protected readonly byName = new Map<string, number>();
  protected readonly pool = new PendingPool();
  /** Gateway PUBLISH → PUBACK of the telemetry batches, this interval (the meter's). */
  protected readonly batchMs: Histogram;
  protected readonly host: WorkloadHost;
  protected readonly clock: WorkloadClock;
  /** Every row of the shard; this workload serves `rows` of them. */
  protected readonly devices: readonly GatewayChildDevice[];
  protected readonly rows: readonly number[];
  private readonly closes: DeferredCloses;
  /** Server-side RPC to the children through their gateways, when the rpc workload calls them (RPC_TARGETS). */
  protected readonly rpc: GatewayRpc | null;
  /** What the gateway connections report to (the sessions' WorkloadHost, gateway index as row). */
  protected readonly gatewayHost: WorkloadHost = {
    connected: (g) => this.gatewayUp(g),
    acked: (g, id, at, refused) => this.gatewayAck(g, id, at, refused),
    closed: (g, cause, kind) => this.gatewayClosed(g, cause, kind),
  };

  constructor(wctx: WorkloadContext, version: MqttVersion) {
    this.host = wctx.host;
    this.clock = wctx.clock;
    this.rows = wctx.rows;
    const devices = (this.devices = wctx.devices as readonly GatewayChildDevice[]);
    const n = devices.length;
    this.linkOf = new Int32Array(n).fill(-1);
    this.child = new Uint8Array(n);
    this.controlId = new Int32Array(n);
    this.closes = new DeferredCloses(this.host);
    const meter = wctx.meter('gateway');
    this.c = meter.counters as GatewayCounters;
    this.batchMs = meter.hist[BATCH_HISTOGRAM];
    for (const i of this.rows) {
      if (!devices[i].gateway) throw new Error(`gateway workload: row ${devices[i].name} names no gateway`);
      this.byName.set(devices[i].name, i);
    }
    this.c.children = this.rows.length;
    const o = wctx.overlays;
    this.rpc = o?.servesChildren
      ? new GatewayRpc(
          o,
          this.links,
          this.linkOf,
          (i) => this.child[i] === CH.JOINED,
          devices,
          this.byName,
          version,
          this.c,
          () => this.clock.now(),
        )
      : null;
  }

  rpcSubscribed(g: number, granted: boolean, at: number): void {
    this.rpc?.subscribed(this.links[g], granted, at);
  }

  rpcRequest(g: number, payload: string, at: number): void {
    this.rpc?.request(g, payload, at);
  }

  /** Row i's batch entry is complete: its gateway writes the batch at the end of the tick. */
  protected abstract flush(i: number): void;

  // ── what a gateway connection reports ───────────────────────────────────────────────────────

  protected gatewayUp(g: number): void {
    const link = this.links[g];
    link.state = GW.UP;
    this.c.gatewayConnects++;
    this.c.gatewaysConnected++;
    link.counted = true;
    if (link.active === 0) return this.closeGateway(link); // every child left while it connected
    if (this.rpc) link.session.write(this.rpc.subscribePacket, this.clock.now());
    const waiting: number[] = [];
    for (const i of link.rows) if (this.child[i] === CH.WAITING) waiting.push(i);
    this.sendConnects(link, waiting);
  }

  protected gatewayAck(g: number, id: number, at: number, refused: string | null): void {
    const link = this.links[g];
    const p = link.acks.take(id);
    if (!p) return; // answered before (older ThingsBoard answers once per child), or given up on
    const c = this.c;
    switch (p.kind) {
      case PubKind.TELEMETRY:
        recordMs(this.batchMs, at - p.sentAt);
        c.batchesAcked++;
        if (refused !== null) c.refused += p.n;
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
        c.childrenConnected++;
        this.child[i] = CH.JOINED;
        this.host.connected(i, at);
        this.rpc?.joined(link, i, at);
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

  protected gatewayClosed(g: number, cause: Cause | null, kind: ErrorKind | null): void {
    const link = this.links[g];
    const wasUp = link.state === GW.UP;
    const onPurpose = link.closingOnPurpose;
    link.state = GW.IDLE;
    link.closingOnPurpose = false;
    link.reset();
    if (link.counted) this.c.gatewaysConnected--;
    link.counted = false;
    if (wasUp && !onPurpose) this.c.gatewayDrops++;
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
      if (st === CH.JOINED || st === CH.LEAVING) this.c.childrenConnected--;
      this.child[i] = CH.NONE;
      this.rpc?.left(i);
      this.host.closed(i, st === CH.LEAVING ? null : cause, st === CH.LEAVING ? null : kind);
    }
    link.active = 0;
  }

  childDisconnected(g: number, name: string, reason: number | null): void {
    const i = this.byName.get(name);
    const link = this.links[g];
    if (i === undefined || this.linkOf[i] !== g || this.child[i] === CH.NONE) return;
    this.c.childrenDropped++;
    const code = reason === null ? '' : ` (0x${reason.toString(16).padStart(2, '0')})`;
    this.leave(link, i, { cause: `gateway child disconnected by the server${code}`, class: 'server' }, null, false);
  }

  protected sendConnects(link: GatewayLink, rows: readonly number[]): void {
    if (!rows.length) return;
    const now = this.clock.now();
    const s = link.session.socket!;
    s.cork();
    for (const i of rows) {
      this.child[i] = CH.JOINING;
      this.controlId[i] = link.send(PubKind.CONNECT, GATEWAY_CONNECT_TOPIC, childMessage(this.devices[i].name), i, now);
    }
    this.c.connects += rows.length;
    s.uncork();
  }

  // ── children leaving ────────────────────────────────────────────────────────────────────────

  /**
   * Row i's session on the gateway ends: `closed` is reported — later (`defer`, when inside a call
   * from the shard, which must not hear back synchronously) or now (inside an I/O event).
   */
  protected leave(link: GatewayLink, i: number, cause: Cause | null, kind: ErrorKind | null, defer = true): void {
    if (this.child[i] === CH.JOINED || this.child[i] === CH.LEAVING) this.c.childrenConnected--;
    this.child[i] = CH.NONE;
    this.rpc?.left(i);
    link.active--;
    if (defer) this.closes.push(i, cause, kind);
    else this.host.closed(i, cause, kind);
    if (link.active === 0) this.closeGateway(link);
  }

  /** The gateway's last child left: say goodbye (or stop connecting) and let the server close first. */
  protected closeGateway(link: GatewayLink): void {
    if (link.state !== GW.UP && link.state !== GW.CONNECTING) return;
    link.writeBatch(this.clock.now());
    const up = link.state === GW.UP;
    link.state = GW.CLOSING;
    // a gateway saying goodbye is no longer counted as connected (the run's last snapshot may come first)
    if (link.counted) this.c.gatewaysConnected--;
    link.counted = false;
    link.closingOnPurpose = true;
    link.session.close(up);
    if (up) link.closeTimer = setTimeout(() => link.session.close(false), CLOSE_GRACE_MS).unref();
  }
}
