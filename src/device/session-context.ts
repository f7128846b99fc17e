// The SessionContext of a workload's MQTT sessions from the shard's settings: target, TLS material
// (read once per shard, not per connection), protocol version, keepalive and DISCONNECT packet.
import { readFileSync } from 'node:fs';
import { DISCONNECT_V311, DISCONNECT_V5 } from './packets.js';
import type { MqttTelemetrySettings } from './mqtt-telemetry.js';
import type { SessionContext } from './mqtt-session.js';
import type { WorkloadClock, WorkloadHost } from './workload.js';

export function sessionContext(host: WorkloadHost, clock: WorkloadClock, settings: MqttTelemetrySettings): SessionContext {
  const t = settings.tls;
  const tls = t && {
    insecure: t.insecure,
    ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
    ...(t.certFile ? { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile!) } : {}),
  };
  return {
    host,
    clock,
    target: { host: settings.host, port: settings.port, tls },
    version: settings.mqttVersion,
    keepaliveSec: settings.keepaliveSec,
    disconnectPacket: settings.mqttVersion === '5' ? DISCONNECT_V5 : DISCONNECT_V311,
  };
}
