// The SessionContext of a workload's MQTT sessions from the shard's settings: the endpoints' targets
// (MQTT_ENDPOINTS; TLS material read once per shard, not per connection), protocol version,
// keepalive and DISCONNECT packet; the overlays riding the sessions, when there are any.
import { readFileSync } from 'node:fs';
import { DISCONNECT_V311, DISCONNECT_V5 } from './packets.js';
import type { MqttTelemetrySettings } from './mqtt-telemetry.js';
import type { SessionContext } from './mqtt-session.js';
import type { OverlaySet } from './overlay-set.js';
import type { TransportTarget } from './transport.js';
import type { WorkloadClock, WorkloadHost } from './workload.js';

/** The context, and a target per endpoint (`targets[endpointOf(i, targets.length)]` is fleet index i's). */
export function sessionContext(
  host: WorkloadHost,
  clock: WorkloadClock,
  settings: MqttTelemetrySettings,
  overlays: OverlaySet | null = null,
): { ctx: SessionContext; targets: TransportTarget[] } {
  const t = settings.tls;
  const tls = t && {
    insecure: t.insecure,
    ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
    ...(t.certFile ? { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile!) } : {}),
  };
  const endpoints = settings.endpoints?.length ? settings.endpoints : [{ host: settings.host, port: settings.port }];
  const targets: TransportTarget[] = endpoints.map((e) => ({ host: e.host, port: e.port, tls }));
  const ctx: SessionContext = {
    host,
    clock,
    target: targets[0],
    version: settings.mqttVersion,
    keepaliveSec: settings.keepaliveSec,
    disconnectPacket: settings.mqttVersion === '5' ? DISCONNECT_V5 : DISCONNECT_V311,
    overlays,
  };
  return { ctx, targets };
}
