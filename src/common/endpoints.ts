// Several MQTT endpoints (the transport nodes of a ThingsBoard cluster, or several brokers): which
// one a device talks to. The choice is a pure function of the device's fleet index, so a device
// reconnects to the node it was on, and lab instances that split a fleet (INSTANCE i/N) agree on it
// without talking to each other.
import { redactHost } from './redact.js';

export interface MqttEndpoint {
  host: string;
  port: number;
}

/** Endpoint (0-based) of the device with 1-based fleet index `index`: sim-001 → 0, sim-002 → 1, … (mod `k`). */
export function endpointOf(index: number, k: number): number {
  return k > 1 ? (index - 1) % k : 0;
}

/**
 * The fleet index that picks a row's endpoint: its own, or for a gateway's child its gateway's (the
 * children ride their gateway's one connection, src/device/mqtt-gateway.ts).
 */
export const endpointKey = (d: { index: number; gateway?: { index: number } | undefined }): number => d.gateway?.index ?? d.index;

/** `host:port`, IPv6 in brackets, credentials in the host redacted: how reports and logs name an endpoint. */
export function endpointLabel(e: MqttEndpoint): string {
  const host = redactHost(e.host);
  return `${host.includes(':') && !host.includes('@') ? `[${host}]` : host}:${e.port}`;
}

/** The endpoints of a configuration: MQTT_ENDPOINTS when set, else the one MQTT_HOST:MQTT_PORT. */
export function targetEndpoints(c: {
  mqttHost: string;
  mqttPort: number;
  mqttEndpoints?: readonly MqttEndpoint[] | undefined;
}): MqttEndpoint[] {
  return c.mqttEndpoints?.length ? c.mqttEndpoints.map((e) => ({ host: e.host, port: e.port })) : [{ host: c.mqttHost, port: c.mqttPort }];
}

/** Devices per endpoint among the given fleet indices. */
export function devicesPerEndpoint(indices: Iterable<number>, k: number): number[] {
  const out = new Array<number>(k).fill(0);
  for (const i of indices) out[endpointOf(i, k)]++;
  return out;
}
