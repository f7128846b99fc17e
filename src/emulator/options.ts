// Options of createEmulator() with their units and ThingsBoard-like defaults.
import type { Faults } from './faults.js';
import type { TransportLimitSpecs } from './rate-limit.js';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_SERVER_STATS, type ServerStatsOptions } from './server-stats.js';

export interface RateLimitOptions extends TransportLimitSpecs {
  /** REST requests per tenant, `cap:sec,...` (excess → HTTP 429, errorCode 33); null = unlimited. */
  rest?: string | null;
}

export interface EmulatorOptions {
  /** Bind address of both listeners (default 127.0.0.1). */
  host?: string;
  /** REST/HTTP port; 0 = any free port (default 0). */
  httpPort?: number;
  /** MQTT port; 0 = any free port (default 0). With `workers`, worker i listens on mqttPort + i (0: any free port each). */
  mqttPort?: number;
  /**
   * MQTT transport worker processes (default 0 = the MQTT listener runs in this process). Each holds its
   * own port's client sockets and relays their bytes here, where every session runs (docs/emulator.md#workers).
   */
  workers?: number;
  /** Tenant administrator login (default tenant@thingsboard.org / tenant). */
  username?: string;
  password?: string;
  /** Access JWT lifetime, s (default 9000, ThingsBoard's). */
  jwtLifetimeSec?: number;
  /** Refresh JWT lifetime, s (default 604800). */
  refreshLifetimeSec?: number;
  /** Transport (device API) and REST rate limits; all off by default. */
  rateLimits?: RateLimitOptions;
  /** Initial faults (all off by default); change later with setFaults(). */
  faults?: Partial<Faults>;
  /** Tenant profile `maxDevices`: creating more answers 403, errorCode 41 (default 0 = unlimited). */
  maxDevices?: number;
  /**
   * Largest HTTP device API body, bytes (ThingsBoard's `transport.http.max_payload_size`, `/api/v1/**=52428800`):
   * a bigger Content-Length is answered 413 (default 52428800).
   */
  httpMaxPayloadSize?: number;
  /** Largest MQTT packet, bytes; bigger ones close the connection (default 65536). */
  maxMqttPacketSize?: number;
  /** Packets queued between CONNECT and session set-up before the session is closed (v5 0x97) (default 100, ThingsBoard's). */
  msgQueueLimit?: number;
  /**
   * Answer client-side RPC (`v1/devices/me/rpc/request/{n}`) by echoing `{"method","params"}` on `…/response/{n}`, as a
   * rule chain with an "rpc call reply" node does (default false: refused and counted in `unimplemented`, since
   * ThingsBoard's default root chain only logs it and the emulator has no rule engine).
   */
  clientRpcReply?: boolean;
  /**
   * Sockets that have not completed a CONNECT this long after they opened are closed, ms (default 10000; 0 = never,
   * as ThingsBoard: its MqttTransportServerInitializer adds no idle handler). Protects the emulator from half-open sockets.
   */
  connectTimeoutMs?: number;
  /** When set, every `/__emulator/*` request must carry it (`X-Emulator-Token` or `Authorization: Bearer`). */
  controlToken?: string | null;
  /** MQTT sessions without any packet for this long are closed, ms (default 600000). */
  sessionInactivityTimeoutMs?: number;
  /** A device counts as `active` until this long after its last activity, ms (default 600000). */
  deviceInactivityTimeoutMs?: number;
  /** Rows of (ts, keys) kept per device for exact COUNT queries; oldest half dropped beyond (default 1,000,000). */
  historyRowsPerDevice?: number;
  /** Most recent rows per device kept with their values, for raw history and MIN/MAX/AVG/SUM (default 100). */
  recentRowsPerDevice?: number;
  /** WebSocket API: the `authCmd` must arrive within this long, ms (default 10000, ThingsBoard's). */
  wsAuthTimeoutMs?: number;
  /** WebSocket API: serve `/api/ws` (default true); false = only the legacy `/api/ws/plugins/telemetry`, like older servers. */
  wsCurrentEndpoint?: boolean;
  /** Saturating-server model: MQTT telemetry messages served per second (capacity.ts); 0 = off (default). */
  capacity?: number;
  /** Most telemetry messages waiting for --capacity; more are dropped (default 0 = 5 s of work). */
  capacityQueue?: number;
  /** Connection-storm model: CONNECT credential validations per second (connect-capacity.ts); 0 = off (default). */
  connectCapacity?: number;
  /** A CONNECT whose validation would take longer is refused ("server unavailable") after this long, ms (default 10000). */
  connectCapacityTimeoutMs?: number;
  /** ThingsBoard's own statistics: window (default 60 s), pack timeout, Prometheus endpoint (off). */
  serverStats?: Partial<ServerStatsOptions>;
  /** System administrator login (default ThingsBoard's sysadmin@thingsboard.org / sysadmin); null = none. */
  sysadmin?: { username: string; password: string } | null;
  /**
   * Wall clock, ms since the epoch (default Date.now): JWT issue/expiry, device activity and `active`, server-side
   * telemetry timestamps, MQTT idle and connect timeouts and transport rate limits read it; tests inject one.
   */
  clock?: () => number;
  /** Adds routes to the HTTP app before it listens (the WebSocket API is the emulator's own). */
  extendHttp?: (app: FastifyInstance) => void | Promise<void>;
}

export type ResolvedEmulatorOptions = Required<Omit<EmulatorOptions, 'extendHttp' | 'faults' | 'rateLimits' | 'serverStats'>> &
  Pick<EmulatorOptions, 'extendHttp'> & { faults: Partial<Faults>; rateLimits: RateLimitOptions; serverStats: ServerStatsOptions };

export function resolveOptions(o: EmulatorOptions): ResolvedEmulatorOptions {
  return {
    host: o.host ?? '127.0.0.1',
    httpPort: o.httpPort ?? 0,
    mqttPort: o.mqttPort ?? 0,
    workers: o.workers ?? 0,
    username: o.username ?? 'tenant@thingsboard.org',
    password: o.password ?? 'tenant',
    jwtLifetimeSec: o.jwtLifetimeSec ?? 9000,
    refreshLifetimeSec: o.refreshLifetimeSec ?? 604800,
    rateLimits: o.rateLimits ?? {},
    faults: o.faults ?? {},
    maxDevices: o.maxDevices ?? 0,
    httpMaxPayloadSize: o.httpMaxPayloadSize ?? 52428800,
    maxMqttPacketSize: o.maxMqttPacketSize ?? 65536,
    msgQueueLimit: o.msgQueueLimit ?? 100,
    clientRpcReply: o.clientRpcReply ?? false,
    connectTimeoutMs: o.connectTimeoutMs ?? 10000,
    controlToken: o.controlToken ?? null,
    sessionInactivityTimeoutMs: o.sessionInactivityTimeoutMs ?? 600000,
    deviceInactivityTimeoutMs: o.deviceInactivityTimeoutMs ?? 600000,
    historyRowsPerDevice: o.historyRowsPerDevice ?? 1_000_000,
    recentRowsPerDevice: o.recentRowsPerDevice ?? 100,
    wsAuthTimeoutMs: o.wsAuthTimeoutMs ?? 10000,
    wsCurrentEndpoint: o.wsCurrentEndpoint ?? true,
    capacity: o.capacity ?? 0,
    capacityQueue: o.capacityQueue ?? 0,
    connectCapacity: o.connectCapacity ?? 0,
    connectCapacityTimeoutMs: o.connectCapacityTimeoutMs ?? 10000,
    clock: o.clock ?? Date.now,
    serverStats: { ...DEFAULT_SERVER_STATS, ...o.serverStats },
    sysadmin: o.sysadmin === undefined ? { username: 'sysadmin@thingsboard.org', password: 'sysadmin' } : o.sysadmin,
    extendHttp: o.extendHttp,
  };
}
