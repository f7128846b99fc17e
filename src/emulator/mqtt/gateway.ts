// The gateway MQTT API on a gateway device's session: child devices connected, created on first use,
// and their telemetry and attributes stored under their own names. Follows ThingsBoard's
// common/transport/mqtt/.../session/AbstractGatewaySessionHandler.java (JSON payloads) and
// MqttTransportHandler#handleGatewayPublishMsg (routing, and which failure closes the gateway).
import { ApiError, type Device } from '../model.js';
import { castValues, PayloadError, telemetryRows, type TelemetryRow } from '../payload.js';
import { RC5 } from './packets.js';
import type { Session } from './session.js';
import { GATEWAY_ATTRIBUTES_REQUEST, GATEWAY_RPC, GatewayDownlink, GatewayFailure, type DownlinkAck } from './gateway-downlink.js';

export const GATEWAY_PREFIX = 'v1/gateway/';
/** Gateway topics the emulator does not imitate (counted as unimplemented): claiming a child. */
const NOT_IMITATED = new Set(['v1/gateway/claim']);

/** True when the device may use the gateway topics (`additionalInfo.gateway = true` when it connected). */
export function isGateway(d: Device): boolean {
  const info = d.additionalInfo as { gateway?: unknown } | null;
  return typeof info === 'object' && info !== null && info.gateway === true;
}

export class GatewaySession {
  /** Child devices connected through this gateway, by name. */
  readonly children = new Map<string, Device>();
  /** RPC requests, attribute updates and attribute responses for the children (./gateway-downlink.ts). */
  readonly down: GatewayDownlink;

  constructor(private readonly s: Session) {
    this.down = new GatewayDownlink(s);
  }

  get closed(): boolean {
    return this.s.closed;
  }

  /** Whether `topic` is one this class answers (the rest of `v1/gateway/*` is not imitated). */
  static handles(topic: string): boolean {
    return topic.startsWith(GATEWAY_PREFIX) && !NOT_IMITATED.has(topic);
  }

  onPublish(topic: string, payload: string, qos: number, packetId: number, now: number): void {
    const s = this.s;
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      // JsonMqttAdaptor.validateJsonPayload → AdaptorException → sendResponseForAdaptorErrorOrCloseContext
      return s.invalidPayload(qos, packetId);
    }
    try {
      if (topic === 'v1/gateway/connect') return this.connect(json, qos, packetId, now);
      if (topic === 'v1/gateway/disconnect') {
        this.disconnect(deviceName(json), now);
        if (qos > 0) s.ack(packetId);
        return;
      }
      if (topic === 'v1/gateway/telemetry') return this.perDevice(json, 'array', qos, packetId, now);
      if (topic === 'v1/gateway/attributes') return this.perDevice(json, 'object', qos, packetId, now);
      const child = (name: string) => this.child(name, 'default', now);
      let done: DownlinkAck | null = null;
      if (topic === GATEWAY_RPC) done = this.down.rpcResponse(json, child);
      else if (topic === GATEWAY_ATTRIBUTES_REQUEST)
        done = this.down.attributeRequest(json, child, s.version === 5 ? RC5.IMPLEMENTATION_SPECIFIC : 0);
      if (done) {
        if (qos > 0 && done.ack !== null) s.ack(packetId, done.ack);
        return;
      }
      // handleGatewayPublishMsg default: an unknown gateway topic → PUBACK 0x90, connection stays
      if (qos > 0) s.ack(packetId, s.version === 5 ? RC5.TOPIC_NAME_INVALID : 0);
    } catch (e) {
      if (!(e instanceof GatewayFailure)) throw e;
      if (qos > 0) s.ack(packetId, s.version === 5 ? RC5.IMPLEMENTATION_SPECIFIC : 0);
      s.close('gateway-error');
    }
  }

  /**
   * processOnConnect: PUBACK once the child's session exists. A child that cannot be created gets no
   * PUBACK at all (the failure callback only logs it: logDeviceCreationError); the gateway stays.
   */
  private connect(json: unknown, qos: number, packetId: number, now: number): void {
    const name = deviceName(json);
    const type = (json as { type?: unknown }).type;
    const child = this.child(name, type === undefined || type === null ? 'default' : String(type), now);
    if (qos > 0 && child) this.s.ack(packetId);
  }

  /** processFailure on MAXIMUM_NUMBER_OF_DEVICES_REACHED: PUBACK 0x97 (3.x: no reason code), the gateway stays connected. */
  private quotaExceeded(): number {
    return this.s.version === 5 ? RC5.QUOTA_EXCEEDED : 0;
  }

  /** onDeviceTelemetryJson / onDeviceAttributesJson: `{"<child>": [rows] | {attributes}, …}`, one PUBACK for all. */
  private perDevice(json: unknown, shape: 'array' | 'object', qos: number, packetId: number, now: number): void {
    const s = this.s;
    const server = s.server;
    // validateJsonObject throws JsonSyntaxException (a RuntimeException)
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new GatewayFailure('not a JSON object');
    // entries of the wrong shape are skipped (logged); none left → IllegalArgumentException
    const entries = Object.entries(json).filter(([, v]) => (shape === 'array' ? Array.isArray(v) : isPlainObject(v)));
    if (entries.length === 0) throw new GatewayFailure('message is empty');
    let reason = 0;
    for (const [name, value] of entries) {
      const child = this.child(name, 'default', now);
      if (!child) {
        reason ||= this.quotaExceeded();
        continue;
      }
      let rows: TelemetryRow[] | null = null;
      let values: Record<string, unknown> | null = null;
      try {
        if (shape === 'array') rows = telemetryRows(value, now);
        else values = castValues({ ...(value as Record<string, unknown>) });
      } catch (e) {
        if (!(e instanceof PayloadError)) throw e;
        // a conversion failure: ackOrClose — v5 PUBACK 0x99 once, 3.x closes the channel
        if (s.version !== 5) return s.close('invalid-payload');
        reason ||= RC5.PAYLOAD_FORMAT_INVALID;
        continue;
      }
      // a rate limit on any child: PUBACK 0x97 and the gateway connection is closed
      if (!server.ingest.admit(child, rows, now, 'mqtt')) {
        if (qos > 0) s.ack(packetId, this.quotaExceeded());
        return s.close('rate-limited');
      }
      if (rows) server.ingest.telemetry(child, rows, now);
      else server.store.saveAttributes(child, 'CLIENT_SCOPE', values!, now);
    }
    if (qos > 0) s.ack(packetId, reason);
  }

  /** onDeviceConnect: the connected child, found or created (null when the tenant's device limit is reached). */
  private child(name: string, type: string, now: number): Device | null {
    let d = this.children.get(name);
    if (d) return d;
    const server = this.s.server;
    const limit = server.faults.gatewayChildLimit;
    if (limit > 0 && this.children.size >= limit) {
      server.counters.gateway.refused++;
      return null;
    }
    const reg = server.store.registry;
    d = reg.byName.get(name);
    if (!d) {
      // DefaultTransportApiService#handle(GetOrCreateDeviceFromGatewayRequestMsg): created with the
      // profile named by `type` and additionalInfo.lastConnectedGateway (relation "Created" not imitated)
      try {
        d = reg.saveDevice({ name, type, additionalInfo: { lastConnectedGateway: this.s.device!.id } });
      } catch (e) {
        if (e instanceof ApiError && e.status === 403) {
          server.counters.gateway.refused++;
          return null;
        }
        throw e;
      }
      server.counters.gateway.created++;
    }
    this.children.set(name, d);
    // the child's session subscribes to RPC and attribute updates at once: waiting requests go out now
    server.childSessions.set(d.id, this);
    server.counters.gateway.connects++;
    d.state.connects++;
    d.state.lastConnectTime = now;
    d.state.lastActivityTime = now;
    server.store.connected.add(d.id);
    server.rpc.deliverPending(d.id);
    return d;
  }

  /** processOnDisconnect → deregisterSession: the child's session ends; unknown names are acknowledged too. */
  private disconnect(name: string, now: number): void {
    const d = this.children.get(name);
    if (!d) return;
    this.children.delete(name);
    const server = this.s.server;
    if (server.childSessions.get(d.id) === this) server.childSessions.delete(d.id);
    server.counters.gateway.disconnects++;
    d.state.lastDisconnectTime = now;
    server.store.connected.delete(d.id);
  }

  /** The gateway's session ended: so did every child session on it. */
  close(now: number): void {
    for (const name of [...this.children.keys()]) this.disconnect(name, now);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** getDeviceName + checkDeviceName: `device` must be present and non-empty (else a RuntimeException). */
function deviceName(json: unknown): string {
  if (!isPlainObject(json)) throw new GatewayFailure('not a JSON object');
  const v = json.device;
  if (v === undefined || v === null || typeof v === 'object') throw new GatewayFailure('no device name');
  const name = String(v);
  if (name === '') throw new GatewayFailure('Device name is empty!');
  return name;
}
