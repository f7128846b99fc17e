// The configuration keys: one table gives each key its env name, property name, parser, default,
// unit and meaning. The schema, docs/configuration.md (`tblab config --docs`) and secret redaction all
// come from here, so a key cannot be documented in one place and parsed differently in another.
import { bool, int, num, str, optStr, oneOf, addressList, optNum } from './parsers.js';
import { TARGET_KEYS } from './keys-target.js';
import { GATEWAY_KEYS } from './keys-gateway.js';
import { WORKLOAD_KEYS } from './keys-workloads.js';
import { INSTANCE_KEYS } from './keys-instances.js';
import { DELIVERY_KEYS } from './keys-delivery.js';
import type { z } from 'zod';
import { RPC_KEYS } from './keys-rpc.js';

export interface KeyDef {
  /** Property name in ResolvedConfig. */
  readonly prop: string;
  readonly schema: z.ZodType;
  /** Default as written in .env (string), or undefined for none. */
  readonly def?: string;
  readonly doc: string;
  /** Never printed, logged or written to reports. */
  readonly secret?: boolean;
  /** Documentation group. */
  readonly group: 'ThingsBoard' | 'Fleet' | 'MQTT' | 'Run' | 'Workloads' | 'Instances' | 'Delivery' | 'Dashboard' | 'Files' | 'REST';
}

export const KEYS = {
  ...TARGET_KEYS,
  ...GATEWAY_KEYS,
  ...WORKLOAD_KEYS,

  PUBLISH_INTERVAL_SEC: {
    prop: 'publishIntervalSec',
    schema: num(0.001, 86_400),
    def: '1',
    group: 'Run',
    doc: 'Each device publishes once per interval, seconds (fractions allowed).',
  },
  PUBLISH_JITTER_MS: {
    prop: 'publishJitterMs',
    schema: int(0, 3_600_000),
    def: '0',
    group: 'Run',
    doc: 'Random ± jitter added to each publish time, ms.',
  },
  DURATION_SEC: {
    prop: 'durationSec',
    schema: optNum(0, 31_536_000),
    def: '',
    group: 'Run',
    doc:
      'Run length, seconds; 0 = until stopped (Ctrl+C or `tblab stop`). Unset: until stopped against a real server (as the Python lab), ' +
      '60 s against the embedded emulator (`--embedded`, `npm start`). Ignored when STAGES is set.',
  },
  STAGES: {
    prop: 'stages',
    schema: str,
    def: '',
    group: 'Run',
    doc: 'Ramp of active devices, e.g. `30s:100%,2m:100%,30s:0%` (duration:target share or count).',
  },
  CONNECT_RATE: {
    prop: 'connectRate',
    schema: int(0, 1_000_000),
    def: '2000',
    group: 'Run',
    doc: 'New connections per second, all shards together (0 = unlimited).',
  },
  MAX_CLIENTS_PER_PROCESS: {
    prop: 'maxClientsPerProcess',
    schema: int(0, 19_000),
    def: '0',
    group: 'Run',
    doc:
      'Most device connections one shard process holds (each is an open file). 0 = planned: 15,000, or less when the ' +
      'open-file limit (`ulimit -n`) is lower (90 % of it, minus 64); `tblab check` prints the plan.',
  },
  PREFLIGHT: {
    prop: 'preflight',
    schema: oneOf(['fail', 'warn', 'off'] as const),
    def: 'fail',
    group: 'Run',
    doc:
      'Before connecting, `run` checks the open-file limit against the connections per shard process, as `tblab check` does: ' +
      '`fail` refuses a run that cannot fit (exit 6), `warn` runs anyway (connects past the limit fail with `EMFILE`), `off` skips it.',
  },
  SHARDS: {
    prop: 'shards',
    schema: int(0, 256),
    def: '0',
    group: 'Run',
    doc: 'Shard processes; 0 = one per core, more when MAX_CLIENTS_PER_PROCESS (or the open-file limit) requires.',
  },
  SOURCE_ADDRESSES: {
    prop: 'sourceAddresses',
    schema: addressList,
    def: '',
    group: 'Run',
    doc:
      'Local addresses to spread connections over (~5k each), e.g. 127.0.0.2-127.0.0.9. Empty = planned when every MQTT endpoint is ' +
      'a 127.x.x.x address and the run has more than 5,000 devices: 127.0.0.2, 127.0.0.3, … (127.0.<i−1>.x for instance i), ~5,000 each.',
  },
  PAYLOAD_TEMPLATE: {
    prop: 'payloadTemplate',
    schema: optStr,
    def: '',
    group: 'Run',
    doc: 'JSON template file for the telemetry payload (see docs/running.md, Payload).',
  },
  ACK_TIMEOUT_MS: {
    prop: 'ackTimeoutMs',
    schema: int(100, 600_000),
    def: '10000',
    group: 'Run',
    doc: 'A QoS 1 publish without PUBACK after this long counts as failed, ms.',
  },
  CONNECT_MAX_IN_PROGRESS: {
    prop: 'connectMaxInProgress',
    schema: int(0, 1_000_000),
    def: '100',
    group: 'Run',
    doc: 'Most connects in progress (no CONNACK yet), all shards together; more wait their turn, so a slow server does not time them out and a small listen backlog does not drop handshakes (0 = no cap; raise it for a distant server: connects/s ≤ this ÷ CONNACK time).',
  },
  CONNECT_TIMEOUT_MS: {
    prop: 'connectTimeoutMs',
    schema: int(100, 600_000),
    def: '10000',
    group: 'Run',
    doc: 'A connect without CONNACK after this long fails (`connect timeout`), ms.',
  },
  DRAIN_TIMEOUT_MS: {
    prop: 'drainTimeoutMs',
    schema: int(0, 600_000),
    def: '5000',
    group: 'Run',
    doc: 'At stop, wait this long for outstanding PUBACKs, ms.',
  },
  RECONNECT: {
    prop: 'reconnect',
    schema: bool,
    def: '1',
    group: 'Run',
    doc: 'Reconnect dropped devices (exponential backoff with full jitter).',
  },
  RECONNECT_MIN_MS: {
    prop: 'reconnectMinMs',
    schema: int(1, 3_600_000),
    def: '1000',
    group: 'Run',
    doc: 'First reconnect backoff ceiling, ms.',
  },
  RECONNECT_MAX_MS: {
    prop: 'reconnectMaxMs',
    schema: int(1, 3_600_000),
    def: '30000',
    group: 'Run',
    doc: 'Largest reconnect backoff ceiling, ms.',
  },
  COLLAPSE_SHARE: {
    prop: 'collapseShare',
    schema: num(0, 1),
    def: '0.5',
    group: 'Run',
    doc: 'Collapse = connected devices below this share of the peak…',
  },
  COLLAPSE_WINDOW_SEC: {
    prop: 'collapseWindowSec',
    schema: num(0.5, 3600),
    def: '5',
    group: 'Run',
    doc: '…(or no acks at all) for longer than this, seconds.',
  },
  LOG_EVERY_MESSAGE: {
    prop: 'logEveryMessage',
    schema: bool,
    def: '0',
    group: 'Run',
    doc: 'Log every publish and its outcome (PUBACK) in the run log and the events JSONL (large!). Default: 1 in 1,000, JSONL only.',
  },
  ...INSTANCE_KEYS,

  ...DELIVERY_KEYS,

  METRICS_HOST: {
    prop: 'metricsHost',
    schema: str,
    def: '127.0.0.1',
    group: 'Dashboard',
    doc: 'Dashboard bind address (keep 127.0.0.1 unless you need remote access).',
  },
  METRICS_PORT: { prop: 'metricsPort', schema: int(0, 65535), def: '5050', group: 'Dashboard', doc: 'Dashboard port (0 = any free port).' },
  METRICS_REFRESH_MS: {
    prop: 'metricsRefreshMs',
    schema: int(100, 60_000),
    def: '2000',
    group: 'Dashboard',
    doc: 'Dashboard push interval, ms.',
  },
  KEEP_DASHBOARD: {
    prop: 'keepDashboard',
    schema: bool,
    def: '0',
    group: 'Dashboard',
    doc: 'After the run, keep the dashboard open on its final state until Ctrl+C.',
  },
  DASHBOARD: { prop: 'dashboard', schema: bool, def: '1', group: 'Dashboard', doc: 'Serve the live dashboard during `run`.' },

  DATA_DIR: {
    prop: 'dataDir',
    schema: str,
    def: 'data',
    group: 'Files',
    doc: 'Folder for tokens, reports, logs, metrics and control files.',
  },
  DISABLED_DEVICES_FILE: {
    prop: 'disabledDevicesFile',
    schema: optStr,
    def: '',
    group: 'Files',
    doc: 'Paused-devices list (default <DATA_DIR>/control/disabled_devices.json).',
  },
  SIM_PID_FILE: {
    prop: 'pidFile',
    schema: optStr,
    def: '',
    group: 'Files',
    doc: 'Pid file of the running lab (default <DATA_DIR>/control/tblab.pid).',
  },
  // the `rpc` and `attributes` workloads
  ...RPC_KEYS,
} as const satisfies Record<string, KeyDef>;

export type ConfigKey = keyof typeof KEYS;

/** The Python lab's keys that mean one of ours: read as that key (docs/coming-from-python.md). */
export const ORIGINAL_KEY_ALIASES: Readonly<Record<string, ConfigKey>> = {
  SIM_DURATION_SEC: 'DURATION_SEC',
  SIM_DURATION_SECONDS: 'DURATION_SEC',
};

/** The Python lab's keys with no key of that meaning here → what to use instead. */
export const ORIGINAL_ONLY_KEYS: Readonly<Record<string, string>> = {
  RAMP_PERCENTAGES: 'ramps are STAGES here, e.g. STAGES=1m:25%,1m:50%,3m:100%',
  RAMP_COUNTS: 'ramps are STAGES here, e.g. STAGES=1m:100,1m:500,3m:1000 (device counts)',
  REPORT_INTERVAL_SEC: 'the console prints a progress line every 5 s; the dashboard refreshes every METRICS_REFRESH_MS',
  MQTT_TOPIC: "telemetry goes to ThingsBoard's device topic v1/devices/me/telemetry",
};
type Keys = typeof KEYS;

/** The resolved, read-only configuration every command receives. */
type ParsedConfig = {
  readonly [K in ConfigKey as Keys[K]['prop']]: z.output<Keys[K]['schema']>;
};
/** Keys whose empty value is replaced by a derived default (see load.ts). */
type Derived = 'pidFile' | 'disabledDevicesFile' | 'mqttHost';
export type ResolvedConfig = Omit<ParsedConfig, Derived> & { readonly [P in Derived]: string };

export const SECRET_KEYS: readonly ConfigKey[] = (Object.keys(KEYS) as ConfigKey[]).filter((k) => (KEYS[k] as KeyDef).secret);
