// createEmulator(): wires the store, the MQTT server and the HTTP app into one unstarted
// emulator with listen()/close(), runtime fault and rate-limit control, and its event stream.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { LabError, describeError } from '../common/errors.js';
import { createEvents, type EmulatorEvents } from './events.js';
import { NO_FAULTS, validateFaults, type Faults } from './faults.js';
import { resolveOptions, type EmulatorOptions, type RateLimitOptions, type ResolvedEmulatorOptions } from './options.js';
import { Store } from './store.js';
import { Auth } from './auth.js';
import { Ingest } from './ingest.js';
import { MqttServer } from './mqtt/server.js';
import { buildHttpApp } from './http/app.js';
import type { HttpContext } from './http/context.js';
import { parseRateLimit, TokenBucket } from './rate-limit.js';
import { buildDeviceDetail, buildStats, type DeviceDetail, type EmulatorStats } from './stats.js';
import { WsApi } from './ws.js';
import { ServerStats } from './server-stats.js';
import { TransportPool } from './workers/transport-pool.js';

export interface EmulatorAddress {
  /** e.g. http://127.0.0.1:8080 */
  restUrl: string;
  /** e.g. mqtt://127.0.0.1:1883 (with workers: worker 0's port) */
  mqttUrl: string;
  httpPort: number;
  mqttPort: number;
  /** Every MQTT endpoint, `host:port` (one per worker; the one listener without workers). */
  mqttEndpoints: string[];
}

export interface Emulator {
  readonly options: ResolvedEmulatorOptions;
  readonly events: EmulatorEvents;
  /** Devices, telemetry and attributes; `store.subscribe(fn)` follows every stored row. */
  readonly store: Store;
  /** JWT issue/verify (a WebSocket API authenticates with `auth.verify(token)`). */
  readonly auth: Auth;
  /** The live fault settings (read-only view; change with setFaults). */
  readonly faults: Readonly<Faults>;
  /** Set once listening. */
  readonly address: EmulatorAddress | null;
  /** The Fastify app and its http.Server (for `upgrade` handlers); available after listen(). */
  readonly http: FastifyInstance | null;
  readonly httpServer: Server | null;
  listen(): Promise<EmulatorAddress>;
  close(): Promise<void>;
  /** Changes faults at runtime (validated; unknown keys or bad values throw LabError USAGE). */
  setFaults(patch: Partial<Faults>): void;
  /** Replaces the transport and REST rate limits at runtime. */
  setRateLimits(limits: RateLimitOptions): void;
  /** Stops reading every MQTT socket for `ms` now. */
  stall(ms: number): void;
  /** Closes a share 0..1 (default all) of the live MQTT sessions now; returns how many were closed. */
  dropSessions(share?: number): number;
  /** Totals and per-device counts (`perDevice: false` skips the per-device part). */
  stats(opts?: { perDevice?: boolean }): EmulatorStats;
  deviceStats(name: string): DeviceDetail | undefined;
}

export function createEmulator(opts: EmulatorOptions = {}): Emulator {
  const o = resolveOptions(opts);
  const events = createEvents();
  const faults: Faults = { ...NO_FAULTS, ...validateFaults(o.faults) };
  const store = new Store(
    {
      maxDevices: o.maxDevices,
      historyRowsPerDevice: o.historyRowsPerDevice,
      recentRowsPerDevice: o.recentRowsPerDevice,
      inactivityTimeoutMs: o.deviceInactivityTimeoutMs,
      clock: o.clock,
    },
    events,
  );
  const auth = new Auth({
    username: o.username,
    password: o.password,
    jwtLifetimeSec: o.jwtLifetimeSec,
    refreshLifetimeSec: o.refreshLifetimeSec,
    tenantId: store.registry.tenantId,
    userId: store.registry.userId,
    clock: o.clock,
    sysadmin: o.sysadmin,
    customerUser: (id) => store.registry.customers.users.get(id),
  });
  const ingest = new Ingest(store, events, faults);
  const serverStats = new ServerStats(store, ingest, faults, o.serverStats, events, o.clock);
  const restLimit: HttpContext['restLimit'] = { bucket: null };
  const setRateLimits = (limits: RateLimitOptions) => {
    const rest = parseRateLimit(limits.rest, 'REST rate limit');
    ingest.limiter.configure(limits);
    restLimit.bucket = rest && new TokenBucket(rest);
  };
  setRateLimits(o.rateLimits);
  ingest.capacity.configure({ perSec: o.capacity, queue: o.capacityQueue });
  const mqtt = new MqttServer(store, ingest, events, faults, {
    maxPacketSize: o.maxMqttPacketSize,
    sessionInactivityTimeoutMs: o.sessionInactivityTimeoutMs,
    msgQueueLimit: o.msgQueueLimit,
    clientRpcReply: o.clientRpcReply,
    connectTimeoutMs: o.connectTimeoutMs,
    clock: o.clock,
  });
  mqtt.connectCapacity.configure({ perSec: o.connectCapacity, timeoutMs: o.connectCapacityTimeoutMs });
  const setFaults = (patch: Partial<Faults>) => {
    const valid = validateFaults(patch);
    Object.assign(faults, valid);
    if ('stallMs' in valid || 'stallEverySec' in valid) mqtt.scheduleStalls();
  };
  const pool =
    o.workers > 0
      ? new TransportPool({
          count: o.workers,
          host: o.host,
          port: o.mqttPort,
          // a relay offers what a Session uses of net.Socket (workers/relay-socket.ts)
          accept: (relay) => mqtt.accept(relay as unknown as Socket),
          lost: (relays, exit) => {
            const gone = new Set<unknown>(relays);
            for (const s of [...mqtt.sessions]) if (gone.has(s.socket)) s.close('worker-exit');
            events.emit('workerExit', exit);
          },
        })
      : null;
  const workerStats = () => pool?.stats() ?? null;
  let http: FastifyInstance | null = null;
  let ws: WsApi | null = null;
  let address: EmulatorAddress | null = null;
  let state: 'new' | 'listening' | 'closed' = 'new';

  const ctx: HttpContext = {
    store,
    auth,
    ingest,
    faults,
    restLimit,
    events,
    controlToken: o.controlToken,
    httpMaxPayloadSize: o.httpMaxPayloadSize,
    closeSession: (deviceId, reason) => mqtt.closeDevice(deviceId, reason),
    stats: (q) => (q.device === undefined ? buildStats(store, mqtt, q.perDevice, workerStats()) : buildDeviceDetail(store, q.device)),
    setFaults: (patch) => setFaults(patch as Partial<Faults>),
    stall: (ms) => mqtt.stall(ms),
    dropSessions: (share) => mqtt.dropSessions(share),
    serverStats: { stats: serverStats, connections: () => mqtt.authenticated },
    rpc: mqtt.rpc,
  };

  const listenFailed = (what: string, port: number, e: unknown) => {
    const inUse = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    return new LabError(inUse ? 'PORT_IN_USE' : 'INTERNAL', {
      message: `The emulator's ${what} listener could not bind ${o.host}:${port}: ${describeError(e)}`,
      cause: e,
    });
  };

  return {
    options: o,
    events,
    store,
    auth,
    faults,
    get address() {
      return address;
    },
    get http() {
      return http;
    },
    get httpServer() {
      return http ? http.server : null;
    },
    async listen() {
      if (state !== 'new') throw new LabError('INTERNAL', { message: `emulator.listen() called on a ${state} emulator` });
      state = 'listening';
      http = await buildHttpApp(ctx, { extend: o.extendHttp });
      let mqttPort: number;
      try {
        mqttPort = pool ? (await pool.start(), pool.ports[0]) : await mqtt.listen(o.host, o.mqttPort);
      } catch (e) {
        throw listenFailed('MQTT', o.mqttPort, e);
      }
      try {
        await http.listen({ host: o.host, port: o.httpPort });
      } catch (e) {
        await mqtt.close();
        await pool?.close();
        throw listenFailed('HTTP', o.httpPort, e);
      }
      ws = new WsApi(http.server, auth, store, events, {
        authTimeoutMs: o.wsAuthTimeoutMs,
        maxPendingUpdates: 1000,
        currentEndpoint: o.wsCurrentEndpoint,
      });
      const httpPort = (http.server.address() as { port: number }).port;
      const host = o.host.includes(':') ? `[${o.host}]` : o.host;
      const mqttEndpoints = pool ? pool.endpoints() : [`${host}:${mqttPort}`];
      address = { restUrl: `http://${host}:${httpPort}`, mqttUrl: `mqtt://${host}:${mqttPort}`, httpPort, mqttPort, mqttEndpoints };
      if (faults.stallMs > 0) mqtt.scheduleStalls();
      serverStats.start();
      return address;
    },
    async close() {
      if (state === 'closed') return;
      const wasListening = state === 'listening';
      state = 'closed';
      if (!wasListening) return;
      serverStats.stop();
      await ws?.close();
      ingest.capacity.close();
      await Promise.all([mqtt.close(), http?.close()]);
      await pool?.close();
    },
    setFaults,
    setRateLimits,
    stall: (ms) => mqtt.stall(ms),
    dropSessions: (share = 1) => mqtt.dropSessions(share),
    stats: (q) => buildStats(store, mqtt, q?.perDevice ?? true, workerStats()),
    deviceStats: (name) => buildDeviceDetail(store, name),
  };
}
