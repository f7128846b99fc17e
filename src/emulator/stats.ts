// The /__emulator/stats body: totals, connections, faults applied, and per-device accounting
// (messages, distinct sequences, gaps, duplicates); `?device=` adds the missing sequence values.
import type { Store, DeviceStats } from './store.js';
import type { MqttServer } from './mqtt/server.js';
import type { RpcCounters } from './mqtt/rpc.js';
import type { DownlinkCounters } from './mqtt/downlink.js';
import type { CapacityStats } from './capacity.js';
import type { TransportWorkerStats } from './workers/transport-pool.js';
import type { ConnectCapacityStats } from './connect-capacity.js';
import type { ProvisionCounters } from './provision.js';
import type { ClaimCounters } from './claim.js';

/** Most missing sequence values listed for one device. */
export const MISSING_LIST_LIMIT = 10000;

export interface EmulatorStats {
  devices: number;
  messages: number;
  dataPoints: number;
  attributeMessages: number;
  connections: {
    current: number;
    sockets: number;
    accepted: number;
    refused: Record<string, number>;
    closed: Record<string, number>;
  };
  faults: {
    ingestDropped: number;
    rateLimited: number;
    /** HTTP device API requests answered 429 by the throttleHttp fault. */
    httpThrottled: number;
    refusedByFault: number;
    refusedByCap: number;
    dropped: number;
    stalls: number;
  };
  /** The --capacity model (null when off): queue, delays, and messages dropped unstored and unacknowledged. */
  capacity: CapacityStats | null;
  /** The --connect-capacity model (null when off): CONNECTs validated, queued, and refused on the validation timeout. */
  connectCapacity: ConnectCapacityStats | null;
  /**
   * Gateway API: children created, child connects/disconnects, children refused (the tenant's device limit or the
   * `gatewayChildLimit` fault), and gateway publishes from non-gateways (no PUBACK).
   */
  gateway: { created: number; connects: number; disconnects: number; refused: number; notGateway: number };
  /** Server-side RPC: requests, delivered to a session, answered, timed out, never delivered (no session). */
  rpc: RpcCounters;
  /** Device provisioning (MQTT `provision` sessions and POST /api/v1/provision): requests by answer. */
  provisioning: ProvisionCounters;
  /** Device claiming: registrations from devices, claim calls by ClaimResponse, reclaims. */
  claims: ClaimCounters;
  /**
   * Publishes on ThingsBoard topics the emulator does not imitate, by family (refused, never acknowledged as done),
   * and provision requests for what it does not imitate (`provision: <what>`, answered FAILURE).
   */
  unimplemented: Record<string, number>;
  /** Publishes on topics ThingsBoard does not know either (PUBACK, v5 0x90). */
  unknownTopic: number;
  /** Publishes written down device and gateway sessions by QoS (the subscription's granted QoS, else 1), and PUBACKs received. */
  downlink: DownlinkCounters;
  /** MQTT transport workers (--workers), one row per port; null when the MQTT listener runs in the front. */
  workers: TransportWorkerStats[] | null;
  perDevice: Record<string, DeviceStats>;
}

export interface DeviceDetail extends DeviceStats {
  name: string;
  id: string;
  /** Missing values of 1..maxSequence, ascending, at most MISSING_LIST_LIMIT. */
  missingSequences: number[];
  missingTruncated: boolean;
  /** `sequence` values the ingestLoss fault dropped after PUBACK, in drop order (at most 10,000). */
  droppedSequences: number[];
  latest: Record<string, { ts: number; value: unknown }>;
}

/** The stats body; `withDevices: false` leaves `perDevice` empty (cheap to poll with many devices). */
export function buildStats(
  store: Store,
  mqtt: MqttServer,
  withDevices = true,
  workers: TransportWorkerStats[] | null = null,
): EmulatorStats {
  const perDevice: Record<string, DeviceStats> = {};
  if (withDevices) for (const d of store.registry.devices.values()) perDevice[d.name] = store.deviceStats(d);
  const c = mqtt.counters;
  return {
    devices: store.registry.devices.size,
    messages: store.totals.messages,
    dataPoints: store.totals.dataPoints,
    attributeMessages: store.totals.attributeMessages,
    connections: {
      current: mqtt.authenticated,
      sockets: c.sockets,
      accepted: c.accepted,
      refused: { ...c.refused },
      closed: { ...c.closed },
    },
    faults: {
      ingestDropped: store.totals.ingestDropped,
      rateLimited: store.totals.rateLimited,
      httpThrottled: store.totals.httpThrottled,
      refusedByFault: c.refused['fault-refuse'],
      refusedByCap: c.refused['connection-cap'],
      dropped: c.closed['fault-drop'] ?? 0,
      stalls: c.stalls,
    },
    capacity: mqtt.ingest.capacity.on ? mqtt.ingest.capacity.stats() : null,
    connectCapacity: mqtt.connectCapacity.on ? mqtt.connectCapacity.stats() : null,
    gateway: { ...c.gateway, notGateway: c.notGateway },
    rpc: { ...mqtt.rpc.counters },
    provisioning: { ...store.provisioning.counters, unimplemented: { ...store.provisioning.counters.unimplemented } },
    claims: { ...store.claims.counters },
    unimplemented: { ...c.unimplemented, ...prefixed('provision: ', store.provisioning.counters.unimplemented) },
    unknownTopic: c.unknownTopic,
    downlink: { ...c.downlink },
    workers,
    perDevice,
  };
}

function prefixed(prefix: string, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [prefix + k, n]));
}

export function buildDeviceDetail(store: Store, name: string): DeviceDetail | undefined {
  const d = store.registry.byName.get(name);
  if (!d) return undefined;
  const st = store.deviceStats(d);
  const missing = d.state.sequences.missing(MISSING_LIST_LIMIT);
  return {
    name: d.name,
    id: d.id,
    ...st,
    missingSequences: missing,
    missingTruncated: st.gaps > missing.length,
    droppedSequences: [...d.state.droppedSequences],
    latest: Object.fromEntries(store.latest(d)),
  };
}
