// The supervisor ↔ shard message protocol: every message either side sends, as discriminated
// unions. Both sides switch exhaustively on `type`. Transport: child_process IPC with
// serialization 'advanced' (structured clone), so typed arrays cross without JSON.
import type { DeviceCredentials, GatewayRef } from '../common/fleet.js';
import type { CauseClass } from '../metrics/snapshot.js';
import type { MqttVersion } from '../device/packets.js';
import type { Stage } from './stages.js';
import type { MqttEndpoint } from '../common/endpoints.js';
import type { EndpointPart } from './endpoint-tallies.js';
import type { AttributeSettings, RpcSettings } from '../device/round-trip-overlays.js';
import type { FleetWorkload, WorkloadName } from '../common/workloads.js';
import type { WorkloadStatsPart } from '../metrics/workload-stats.js';

export interface ShardDevice {
  name: string;
  /** 1-based fleet index (phase and payload `index`). */
  index: number;
  credentials: DeviceCredentials;
  /** The fleet workload that owns the row (absent: `device`). */
  workload?: FleetWorkload;
  /** ThingsBoard's device id (the `rpc` and `attributes` workloads call REST with it). */
  id?: string;
  /** A gateway's child (FleetDevice.gateway). */
  gateway?: GatewayRef;
  /** Slot offset in the interval, 0..1 (FleetDevice.phase). */
  phase?: number;
}

/** Everything a shard needs to run, resolved by the supervisor. */
export interface ShardSettings {
  /** The first MQTT endpoint (the only one without MQTT_ENDPOINTS). */
  host: string;
  port: number;
  /** Every MQTT endpoint, the first included; a device uses endpointOf(its fleet index) (absent = host:port). */
  endpoints?: MqttEndpoint[];
  tls: null | { caFile?: string; certFile?: string; keyFile?: string; insecure: boolean };
  mqttVersion: MqttVersion;
  qos: 0 | 1;
  keepaliveSec: number;
  intervalMs: number;
  jitterMs: number;
  ackTimeoutMs: number;
  connectTimeoutMs: number;
  reconnect: boolean;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** This shard's share of CONNECT_RATE, per second (0 = unlimited). */
  connectRate: number;
  /** Most connects in progress (no CONNACK yet) in this shard: its share of CONNECT_MAX_IN_PROGRESS (0 = no cap). */
  connectMaxInProgress: number;
  sourceAddresses: string[];
  payloadTemplate?: string;
  logEveryMessage: boolean;
  stages: Stage[];
  /** Devices in the whole fleet (phases spread over the interval by fleet index). */
  fleetSize: number;
  /** Run start, ms since epoch: the schedule's time origin. */
  t0: number;
  /** Timer wheel tick, ms. */
  tickMs: number;
  /** The run's workloads (fleet and overlay; docs/workloads.md). Absent: `device` alone. */
  workloads?: WorkloadName[];
  /** The `rpc` workload's settings, this shard's share of its rates (absent: no rpc). */
  rpc?: RpcSettings;
  /** The `attributes` workload's settings, this shard's share (absent: no attributes). */
  attributes?: AttributeSettings;
  /** The `http` workload's device API and this shard's share of its keep-alive connections (present with `http` rows). */
  http?: { url: string; connections: number };
}

export type ToShard =
  | { type: 'init'; shardId: number; runId: string; devices: ShardDevice[]; settings: ShardSettings; paused: string[] }
  | { type: 'pause'; paused: string[] }
  | { type: 'stop'; reason: string; drainMs: number }
  /** Second signal: skip the drain, close now. */
  | { type: 'hurry' }
  /** The tenant's access token for the overlays' REST calls (never logged). */
  | { type: 'rest-token'; token: string };

export interface ShardEvent {
  /** ms since epoch */
  ts: number;
  /** `acked`: a publish's PUBACK, only with LOG_EVERY_MESSAGE (the publish's outcome next to the publish). */
  ev: 'connected' | 'connect-failed' | 'disconnect' | 'publish' | 'acked' | 'ack-timeout' | 'paused' | 'resumed' | 'shard' | 'error';
  device?: string;
  [k: string]: unknown;
}

export interface DisconnectEvent {
  /** local device index */
  i: number;
  at: number;
  cause: string;
  class: CauseClass;
}

export interface ShardSnapshot {
  shardId: number;
  seq: number;
  /** ms since epoch */
  at: number;
  /** Shard-wide counters, layout C (counters.ts). */
  counters: Float64Array;
  byOutcome: Record<string, number>;
  byCause: Record<string, number>;
  byClass: Partial<Record<CauseClass, number>>;
  errorsByKind: Record<string, number>;
  /** Encoded HDR histograms of this interval only (the supervisor accumulates). */
  hist: { ackMs: string; connectMs: string; scheduleLagMs: string };
  eventLoopP99Ms: number | null;
  /** CPU of this shard over the interval, % of one core. */
  cpuPercent: number;
  rssMB: number;
  /** Rows (layout D) of devices whose state or errors changed since the previous snapshot. */
  changed: { idx: Int32Array; rows: Float64Array };
  /**
   * Rows whose only change is traffic, as their traffic fields (layout T, row-ship.ts): every 5th
   * snapshot and in the final one (shard.ts TRAFFIC_ROWS_EVERY); absent or empty in the others.
   */
  traffic?: { idx: Int32Array; rows: Float64Array };
  /** Connects, connected devices, connect latency and disconnect causes per MQTT endpoint. */
  endpoints?: EndpointPart;
  /** Each workload's share (the stats channel, src/metrics/workload-stats.ts), by workload name. */
  workloads?: Record<string, WorkloadStatsPart>;
  disconnects: DisconnectEvent[];
  events: ShardEvent[];
}

/** What the supervisor relays of each shard snapshot (and of a crash) to whoever follows the run. */
export interface ShardEventBatch {
  shard: number;
  /** The shard's clock when it sent them (ms since epoch): every event of this shard up to here has arrived. */
  at: number;
  events: readonly ShardEvent[];
  /** No more events from this shard (final snapshot, crash). */
  final: boolean;
}

export type FromShard =
  | { type: 'ready'; shardId: number; pid: number }
  | { type: 'snapshot'; snapshot: ShardSnapshot; final: boolean }
  | { type: 'fatal'; shardId: number; message: string };
