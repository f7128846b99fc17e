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
import { CAUSES, type Cause, type ErrorKind } from './causes.js';
import { PubKind } from './gateway-acks.js';
import { GatewayBatch, QuotedNames } from './gateway-batch.js';
import { CH, GatewayChildren, type GatewayChildDevice } from './gateway-children.js';
import { GatewayLink, GW, type LinkShared } from './gateway-link.js';
import { childMessage, GATEWAY_DISCONNECT_TOPIC } from './gateway-packets.js';
import { PINGREQ } from './packets.js';
import { createPayloadSource } from './payload.js';
import type { MqttTelemetrySettings } from './mqtt-telemetry.js';
import { sessionContext } from './session-context.js';
import { endpointOf } from '../common/endpoints.js';
import type { Workload, WorkloadContext, WorkloadDevice } from './workload.js';

export type { GatewayChildDevice };

/** A gateway socket holding this many unsent bytes makes its children skip their messages. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * A child's `v1/gateway/connect` got no PUBACK in CONNECT_TIMEOUT_MS while its gateway was up:
 * ThingsBoard only logs a child it cannot create (AbstractGatewaySessionHandler#processOnConnect).
 */
const CHILD_CONNECT_UNANSWERED: Cause = { cause: 'gateway child connect unanswered (not created: device limit?)', class: 'server' };

/** The gateways of the rows (device, its credentials = its children's) with their rows, ascending. */
function byGateway(devices: readonly GatewayChildDevice[], of: readonly number[]): Map<WorkloadDevice, Int32Array> {
  const rows = new Map<string, number[]>();
  for (const i of of) (rows.get(devices[i].gateway.name) ?? rows.set(devices[i].gateway.name, []).get(devices[i].gateway.name)!).push(i);
  const out = new Map<WorkloadDevice, Int32Array>();
  for (const r of rows.values()) {
    const { gateway, credentials } = devices[r[0]];
    out.set({ name: gateway.name, index: gateway.index, credentials }, Int32Array.from(r));
  }
  return out;
}

export class MqttGateway extends GatewayChildren implements Workload {
  /** Last `ts` written per row: a child's points never share a timestamp (ThingsBoard keeps one per key and ts). */
  private readonly lastTs: Float64Array;
  /** GatewayBatch.serial of the batch each row last appeared in. */
  private readonly lastSerial: Float64Array;
  /** Gateways with a batch to write when the tick returns. */
  private readonly dirty: GatewayLink[] = [];
  private flushQueued = false;
  private readonly keepMs: number;
  private readonly flushAll = () => this.writeBatches();

  constructor(
    wctx: WorkloadContext,
    private readonly settings: MqttTelemetrySettings,
  ) {
    super(wctx, settings.mqttVersion);
    const devices = this.devices;
    this.lastTs = new Float64Array(devices.length);
    this.lastSerial = new Float64Array(devices.length).fill(-1);
    this.keepMs = settings.keepaliveSec * 1000;
    const { ctx, targets } = sessionContext(this.gatewayHost, this.clock, settings);
    const payload = createPayloadSource(devices, settings.payloadTemplate);
    const names = new QuotedNames(devices.map((d) => d.name));
    const { qos, mqttVersion: version } = settings;
    const shared: LinkShared = { pool: this.pool, c: this.c, qos, version, reuseWrites: !settings.tls };
    for (const [gateway, rows] of byGateway(devices, this.rows)) {
      const g = this.links.length;
      // a gateway's endpoint (MQTT_ENDPOINTS) by its own index, as a device's by its index
      const target = targets[endpointOf(gateway.index, targets.length)];
      this.links.push(new GatewayLink(g, gateway, rows, new GatewayBatch(qos, version, payload, names), shared, { ctx, target }, this));
      for (const i of rows) this.linkOf[i] = g;
    }
    this.c.gateways = this.links.length;
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
    if (b.open && this.lastSerial[i] === b.serial && !b.isOpenRow(i)) link.writeBatch(this.clock.now());
    if (ts <= this.lastTs[i]) ts = this.lastTs[i] + 1;
    this.lastTs[i] = ts;
    const bytes = b.append(i, seq, ts);
    this.lastSerial[i] = b.serial;
    if (this.settings.qos) (link.current ??= this.pool.get(PubKind.TELEMETRY)).add(i, ackId);
    return bytes;
  }

  flush(i: number): void {
    const link = this.links[this.linkOf[i]];
    link.batch.closeRow();
    if (link.dirty) return;
    link.dirty = true;
    this.dirty.push(link);
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
      const now = this.clock.now();
      link.writeBatch(now); // its last messages go before its goodbye
      const id = link.send(PubKind.DISCONNECT, GATEWAY_DISCONNECT_TOPIC, childMessage(this.devices[i].name), i, now);
      this.c.disconnects++;
      this.rpc?.left(i); // no calls to a child saying goodbye
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
    // ThingsBoard leaves a connect unanswered when it cannot create the child (its device limit)
    if (this.child[i] === CH.JOINING && cause === CAUSES.connectTimeout) cause = CHILD_CONNECT_UNANSWERED;
    this.leave(link, i, cause, kind);
  }

  private writeBatches(): void {
    this.flushQueued = false;
    for (const link of this.dirty) {
      link.dirty = false;
      const now = this.clock.now();
      link.writeBatch(now);
      if (link.attributes.length && link.state === GW.UP) link.sendAttributes((i) => this.devices[i], now);
    }
    this.dirty.length = 0;
  }
}
