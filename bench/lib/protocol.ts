// What the harness and a generator process (the lab or the baseline writer) say to each other
// over the fork IPC channel. The generator gets its spec as argv[2] (JSON).

/** The shape of the load a scenario asks for and a generator is given. */
export interface LoadShape {
  devices: number;
  /** Messages per second per device; 0 = idle (connect only); 'max' = as fast as the target takes. */
  ratePerDevice: number | 'max';
  qos: 0 | 1;
  /** Local source addresses to spread connections over; empty = the kernel picks. */
  sourceAddresses: string[];
  /** New connections per second; 0 = unlimited. */
  connectRate: number;
  /** Lab shard processes; 0 = the lab's default (the baseline is always one process). */
  shards: number;
  /**
   * Gateway scenarios: child devices per connection (`devices` are then the gateways, one MQTT
   * connection each, and every child publishes `ratePerDevice` inside its gateway's batches).
   */
  children?: number;
}

export interface GenSpec extends LoadShape {
  host: string;
  port: number;
  /** Baseline: size of its fixed payload, bytes (the lab's mean payload size). */
  payloadBytes: number;
  /** Lab: its DATA_DIR (reports, logs) for this phase. */
  workDir: string;
}

export type ToGen = { type: 'window-start' } | { type: 'window-end' } | { type: 'stop' };

export interface GenDone {
  type: 'done';
  /** PUBLISH packets written to sockets over the whole phase. */
  sent: number;
  acked: number;
  failed: number;
  /** Schedule lag (actual − intended send time) p99 within the measurement window, ms; null = not measured. */
  scheduleLagP99Ms: number | null;
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  /** First connect attempt to last CONNACK, s, when the generator knows it better than 'connected' did. */
  connectSeconds?: number | null;
  /** Anything else worth keeping (lab: its report path, connects by outcome). */
  extra: Record<string, unknown>;
}

export type FromGen = { type: 'connected'; connected: number; seconds: number } | { type: 'error'; message: string } | GenDone;

/** The topic every ThingsBoard device publishes telemetry on. */
export const TELEMETRY_TOPIC = 'v1/devices/me/telemetry';

/** Sends a message to the parent; a no-op when not forked (so entry points can be run by hand). */
export function tell(msg: FromGen): void {
  process.send?.(msg);
}

export function readSpec(): GenSpec {
  const raw = process.argv[2];
  if (!raw) throw new Error("usage: node <generator>.js '<GenSpec JSON>' (normally started by bench/run.js)");
  return JSON.parse(raw) as GenSpec;
}
