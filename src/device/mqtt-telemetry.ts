// The first workload (contract in ./workload.ts): one MQTT connection per device, publishing
// telemetry to ThingsBoard's device topic at QoS 0 or 1. PUBLISH packets are built by one
// PublishWriter into a buffer reused across writes; each device's session is an MqttSession.
import { PublishWriter, TELEMETRY_TOPIC, PINGREQ, type MqttVersion } from './packets.js';
import { createPayloadSource } from './payload.js';
import type { Cause, ErrorKind } from './causes.js';
import { MqttSession } from './mqtt-session.js';
import { sessionContext } from './session-context.js';
import type { Workload, WorkloadContext } from './workload.js';
import type { OverlaySet } from './overlay-set.js';
import { endpointOf, type MqttEndpoint } from '../common/endpoints.js';

/** A device whose socket holds this many unsent bytes skips publishes instead of growing memory. */
const MAX_BUFFERED_BYTES = 64 * 1024;

/** The settings this workload reads (the engine's ShardSettings carries them). */
export interface MqttTelemetrySettings {
  host: string;
  port: number;
  /** Every endpoint (MQTT_ENDPOINTS): device with fleet index i connects to endpointOf(i); absent = host:port. */
  endpoints?: readonly MqttEndpoint[];
  tls: null | { caFile?: string; certFile?: string; keyFile?: string; insecure: boolean };
  mqttVersion: MqttVersion;
  qos: 0 | 1;
  keepaliveSec: number;
  payloadTemplate?: string;
}

export class MqttTelemetry implements Workload {
  /** By shard row; null for rows of another workload. */
  private readonly sessions: Array<MqttSession | null>;
  private readonly packets: PublishWriter;
  /** Plain TCP: a write that leaves no unsent bytes has released its buffer (the writer reuses it). */
  private readonly reuseWrites: boolean;
  private readonly keepMs: number;

  constructor(wctx: WorkloadContext, settings: MqttTelemetrySettings, overlays: OverlaySet | null = null) {
    const { host, clock, devices } = wctx;
    const { ctx, targets } = sessionContext(host, clock, settings, overlays);
    overlays?.attach((i, packet) => this.sessions[i]?.send(packet, clock.now()) ?? false);
    this.keepMs = settings.keepaliveSec * 1000;
    this.reuseWrites = !settings.tls;
    const payload = createPayloadSource(devices, settings.payloadTemplate);
    this.packets = new PublishWriter(TELEMETRY_TOPIC, settings.qos, settings.mqttVersion, payload);
    this.sessions = devices.map(() => null);
    for (const i of wctx.rows)
      this.sessions[i] = new MqttSession(ctx, i, devices[i], targets[endpointOf(devices[i].index, targets.length)]);
  }

  connect(i: number, localAddress: string | undefined): void {
    this.sessions[i]!.connect(localAddress);
  }

  backedUp(i: number): boolean {
    return this.sessions[i]!.socket!.writableLength > MAX_BUFFERED_BYTES;
  }

  append(i: number, seq: number, ts: number, ackId: number): number {
    return this.packets.append(i, seq, ts, ackId);
  }

  flush(i: number, now: number): void {
    const sess = this.sessions[i]!;
    sess.write(this.packets.take(), now);
    this.packets.written(this.reuseWrites && sess.socket!.writableLength === 0);
  }

  housekeep(i: number, now: number): void {
    if (this.keepMs > 0) this.sessions[i]!.keepalive(now, this.keepMs, PINGREQ);
  }

  close(i: number, graceful: boolean): void {
    this.sessions[i]!.close(graceful);
  }

  abort(i: number, cause: Cause, kind: ErrorKind | null): void {
    this.sessions[i]!.fail(cause, kind);
  }
}
