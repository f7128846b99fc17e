// The engine's contract: what it needs (a plain config object, the fleet) and what it returns
// (results: the final merged snapshot, device records, histograms, notes, shard states).
import type { FleetDevice } from '../common/fleet.js';
import type { MetricsSnapshot } from '../metrics/snapshot.js';
import type { RunResults } from '../metrics/records.js';
import type { ShardEventBatch } from './protocol.js';
import type { MqttEndpoint } from '../common/endpoints.js';
import type { WorkloadName } from '../common/workloads.js';
import type { AttributeSettings, RpcSettings } from '../device/round-trip-overlays.js';

export type { RunResults, ShardEventBatch };

/**
 * What the engine needs of the configuration. The names are those of the resolved config
 * (src/config), which src/lab maps to this; the engine itself never reads the configuration.
 */
export interface EngineConfig {
  mqttHost: string;
  mqttPort: number;
  /** MQTT_ENDPOINTS: every endpoint, device with fleet index i on endpointOf(i) (absent or empty = mqttHost:mqttPort). */
  mqttEndpoints?: readonly MqttEndpoint[] | undefined;
  mqttTls: boolean;
  mqttCaFile?: string | undefined;
  mqttCertFile?: string | undefined;
  mqttKeyFile?: string | undefined;
  mqttTlsInsecure: boolean;
  mqttVersion: '3.1.1' | '5';
  qos: number;
  keepaliveSec: number;
  publishIntervalSec: number;
  publishJitterMs: number;
  ackTimeoutMs: number;
  connectTimeoutMs: number;
  reconnect: boolean;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  connectRate: number;
  connectMaxInProgress: number;
  sourceAddresses: readonly string[];
  payloadTemplate?: string | undefined;
  logEveryMessage: boolean;
  /** Ramp spec (`30s:100%,…`); empty = all devices for `durationSec`. */
  stages: string;
  durationSec: number;
  drainTimeoutMs: number;
  shards: number;
  maxClientsPerProcess: number;
  instance?: { index: number; count: number } | undefined;
  /** Paused-devices list the engine watches. */
  disabledDevicesFile: string;
  collapseShare: number;
  collapseWindowSec: number;
  /** Folder of the per-shard logs and CSV (`logs/`, `metrics/`). */
  dataDir: string;
  /** The run's workloads (docs/workloads.md); absent: `device` alone. Rows get their kind from `FleetDevice.workload`. */
  workloads?: readonly WorkloadName[];
  /** TB_URL: where the `rpc` and `attributes` workloads send their REST calls. */
  tbUrl?: string;
  /** The `rpc` workload (when WORKLOADS lists it); rates for this lab as a whole. */
  rpc?: Omit<RpcSettings, 'restUrl'>;
  /** The `attributes` workload (when WORKLOADS lists it); rates for this lab as a whole. */
  attributes?: Omit<AttributeSettings, 'restUrl'>;
  /** The `http` workload: base URL of the HTTP device API and keep-alive connections, all shards together. */
  httpUrl?: string;
  httpConnections?: number;
}

export interface EngineOptions {
  config: EngineConfig;
  /** The devices this lab runs (already sliced for INSTANCE), ordered by index. */
  fleet: FleetDevice[];
  /** Devices in the whole fleet, for the phase spread (default: the highest index in `fleet`). */
  fleetSize?: number;
  runId?: string;
  /** REST URL shown in snapshots (null when unknown). */
  restUrl: string | null;
  /** Write the per-shard logs and CSV under `config.dataDir` (default true). */
  writeFiles?: boolean;
  /** Node flags of the shard processes, e.g. ['--cpu-prof', '--cpu-prof-dir=prof'] (default none). */
  shardExecArgv?: string[];
  /** Timer wheel tick, ms (default 5). */
  tickMs?: number;
}

/** A checkpoint of a running engine: results so far, devices as ready JSON chunks. */
export interface InterimResults {
  results: RunResults;
  devicesJson: readonly Uint8Array[];
}

export interface EngineHandle {
  readonly runId: string;
  /** Hands the tenant's access token to every shard (the `rpc` and `attributes` workloads' REST calls). */
  setRestToken(token: string): void;
  /** Ends the run: stop publishing, drain acks, disconnect. A second call hurries (no drain). */
  stop(reason: string): void;
  /** Resolves with the results (also when aborted); rejects only on an internal error. */
  readonly done: Promise<RunResults>;
  /** The newest merged snapshot. */
  latest(): MetricsSnapshot | null;
  /** Adds a note to the run (shown in `generator.notes`), once. */
  note(msg: string): void;
  /** The results so far (null before the first merged snapshot or once finishing). */
  interim(): InterimResults | null;
  on(event: 'snapshot', fn: (s: MetricsSnapshot) => void): this;
  on(event: 'log', fn: (line: string) => void): this;
  /** The events of every shard snapshot, as they arrive (shards' clocks interleave: see ShardEventBatch.at). */
  on(event: 'events', fn: (batch: ShardEventBatch) => void): this;
  off(event: 'snapshot', fn: (s: MetricsSnapshot) => void): this;
  off(event: 'log', fn: (line: string) => void): this;
}
