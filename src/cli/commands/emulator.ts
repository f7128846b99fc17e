// `tblab emulator`: maps flags to the emulator's options; src/lab/emulator.ts runs it (prints
// `REST http://…` and `MQTT mqtt://…` on stdout once listening, runs until SIGINT/SIGTERM).
import { Option, type Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { LabError } from '../../common/errors.js';

function port(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535)
      throw new LabError('USAGE', { message: `${flag} expects a port number 0–65535 (0 = any free port), got ${JSON.stringify(v)}` });
    return n;
  };
}

function number(flag: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > max)
      throw new LabError('USAGE', { message: `${flag} expects a number from 0 to ${max}, got ${JSON.stringify(v)}` });
    return n;
  };
}

/** Most --workers: each is a process of its own (~45 MB) on a port of its own. */
export const MAX_WORKERS = 64;

function workerCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > MAX_WORKERS)
    throw new LabError('USAGE', {
      message: `--workers expects a whole number from 0 to ${MAX_WORKERS}, got ${JSON.stringify(v)}`,
      hint: 'Give --workers about one worker per 15,000 devices (each process holds its sockets under the open-file limit); 0 = MQTT in the front process.',
    });
  return n;
}

/** Flag → fault key. */
const FAULT_FLAGS = [
  ['--ack-latency-ms <ms>', 'delay before each batch of PUBACKs, ms', 'ackLatencyMs', 0],
  ['--rest-latency-ms <ms>', 'delay before every REST reply, ms', 'restLatencyMs', 0],
  ['--refuse-connects <share>', 'share 0..1 of CONNECTs refused with CONNACK 3 (server unavailable)', 'refuseConnects', 1],
  ['--drop-share <share>', 'share 0..1 of sessions the server closes --drop-after seconds after CONNACK', 'dropShare', 1],
  ['--drop-after <sec>', 'seconds after CONNACK when a --drop-share session is closed (default 10)', 'dropAfterSec', 0],
  ['--stall-ms <ms>', 'stop reading every MQTT socket for this long (once at start, or every --stall-every s)', 'stallMs', 0],
  ['--stall-every <sec>', 'repeat the stall every this many seconds', 'stallEverySec', 0],
  ['--max-connections <n>', 'most concurrent MQTT sessions; more get CONNACK 3 (v5 0x97)', 'maxConnections', 0],
  ['--ingest-loss <share>', 'share 0..1 of telemetry messages acknowledged but not stored', 'ingestLoss', 1],
  ['--processing-delay <ms>', 'store telemetry this many ms after the PUBACK', 'processingDelayMs', 0],
  ['--rpc-response-delay <ms>', "hold each device's RPC response this long before its caller gets it, ms", 'rpcResponseDelayMs', 0],
  ['--rpc-timeout-share <share>', "share 0..1 of devices' two-way RPC responses lost (the call times out: 408/504)", 'rpcTimeoutShare', 1],
  ['--throttle-http <share>', 'share 0..1 of HTTP device API requests answered 429, as a rate-limiting proxy would', 'throttleHttp', 1],
  [
    '--gateway-child-limit <n>',
    'most child devices per gateway session; more are refused as over the device limit',
    'gatewayChildLimit',
    0,
  ],
] as const;

export function registerEmulator(program: Command, ctx: LabContext): void {
  const cmd = program
    .command('emulator')
    .description('run the embedded ThingsBoard emulator (REST + HTTP device API + MQTT) until Ctrl+C')
    .option('--host <address>', 'bind address of both listeners', '127.0.0.1')
    .option('--http-port <port>', 'REST/HTTP port (0 = any free port)', port('--http-port'), 8080)
    .option('--mqtt-port <port>', 'MQTT port (0 = any free port); with --workers, worker i listens on port + i', port('--mqtt-port'), 1883)
    .option(
      '--workers <n>',
      'MQTT transport worker processes, one port each, behind one REST front (0 = MQTT in this process)',
      workerCount,
      0,
    )
    .option('--username <email>', 'tenant administrator login', 'tenant@thingsboard.org')
    .option('--password <password>', 'tenant administrator password', 'tenant')
    .option('--jwt-lifetime <sec>', 'access JWT lifetime, seconds', number('--jwt-lifetime'), 9000)
    .option('--refresh-lifetime <sec>', 'refresh JWT lifetime, seconds', number('--refresh-lifetime'), 604800)
    .option('--max-devices <n>', "tenant profile's device limit; creating more answers 403/41 (0 = unlimited)", number('--max-devices'), 0)
    .option('--session-timeout <sec>', 'close MQTT sessions idle this long, seconds', number('--session-timeout'), 600)
    .option('--connect-timeout <sec>', 'close sockets with no CONNECT after this long, s (0 = never)', number('--connect-timeout'), 10)
    .addOption(new Option('--control-token <token>', 'require this X-Emulator-Token on /__emulator/*').env('EMULATOR_CONTROL_TOKEN'))
    .option(
      '--recent-rows <n>',
      'rows per device kept with their values for raw history reads (exact delivery checks read them)',
      number('--recent-rows', 10_000_000),
      100,
    )
    .option(
      '--http-max-payload <bytes>',
      'largest HTTP device API body (transport.http.max_payload_size); bigger → 413',
      number('--http-max-payload'),
      52428800,
    )
    .option('--rate-limit-device <spec>', 'transport messages per device, cap:sec,... (e.g. 20:1,600:60)')
    .option('--rate-limit-tenant <spec>', 'transport messages per tenant, cap:sec,... (e.g. 1000:1,20000:60)')
    .option('--rate-limit-device-dp <spec>', 'telemetry data points per device, cap:sec,...')
    .option('--rate-limit-tenant-dp <spec>', 'telemetry data points per tenant, cap:sec,...')
    .option('--rest-rate-limit <spec>', 'REST requests per tenant, cap:sec,... (excess → 429)')
    .option('--capacity <msg/s>', 'saturating server: MQTT telemetry served per second, the rest queued (0 = off)', number('--capacity'), 0)
    .option('--capacity-queue <n>', 'most messages waiting for --capacity; more are dropped (0 = 5 s)', number('--capacity-queue'), 0)
    .option(
      '--connect-capacity <n/s>',
      'connection storms: CONNECT credential validations per second, the rest wait (0 = off)',
      number('--connect-capacity'),
      0,
    )
    .option(
      '--connect-capacity-timeout <ms>',
      'a CONNECT whose validation would take longer is refused (server unavailable), ms',
      number('--connect-capacity-timeout'),
      10_000,
    )
    .addOption(new Option('--exit-with-parent <pid>', 'exit when process <pid> is gone (used by --embedded)').hideHelp())
    .option(
      '--stats-interval <s>',
      "window of ThingsBoard's queue statistics and API usage reports, seconds",
      number('--stats-interval'),
      60,
    )
    .option('--prometheus', 'serve /actuator/prometheus with ThingsBoard metric names (like METRICS_ENABLED=true)')
    .option('--client-rpc-reply', 'answer client-side RPC with its own {"method","params"}, as a rule chain with an "rpc call reply" node')
    .option('--log-events', 'print every connect, refusal, disconnect and rate-limit hit on stderr')
    .option(
      '--summary-every <sec>',
      'print ingest totals on stderr this often while traffic flows, seconds (0 = never)',
      number('--summary-every'),
      10,
    );
  for (const [flag, doc, , max] of FAULT_FLAGS)
    cmd.addOption(new Option(flag, `fault: ${doc}`).argParser(number(flag.split(' ')[0], max === 1 ? 1 : undefined)));

  cmd.action(async (opts: Record<string, unknown>) => {
    const faults: Record<string, number> = {};
    for (const [flag, , key] of FAULT_FLAGS) {
      const prop = flag.slice(2, flag.indexOf(' ')).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (opts[prop] !== undefined) faults[key] = opts[prop] as number;
    }
    const { runEmulator } = await import('../../lab/emulator.js');
    await runEmulator(
      ctx,
      {
        host: opts.host as string,
        httpPort: opts.httpPort as number,
        mqttPort: opts.mqttPort as number,
        workers: opts.workers as number,
        username: opts.username as string,
        password: opts.password as string,
        jwtLifetimeSec: opts.jwtLifetime as number,
        refreshLifetimeSec: opts.refreshLifetime as number,
        sessionInactivityTimeoutMs: (opts.sessionTimeout as number) * 1000,
        connectTimeoutMs: (opts.connectTimeout as number) * 1000,
        controlToken: (opts.controlToken as string | undefined) || null,
        recentRowsPerDevice: opts.recentRows as number,
        maxDevices: opts.maxDevices as number,
        httpMaxPayloadSize: opts.httpMaxPayload as number,
        capacity: opts.capacity as number,
        capacityQueue: opts.capacityQueue as number,
        clientRpcReply: opts.clientRpcReply === true,
        connectCapacity: opts.connectCapacity as number,
        connectCapacityTimeoutMs: opts.connectCapacityTimeout as number,
        rateLimits: {
          device: opts.rateLimitDevice as string | undefined,
          tenant: opts.rateLimitTenant as string | undefined,
          deviceDataPoints: opts.rateLimitDeviceDp as string | undefined,
          tenantDataPoints: opts.rateLimitTenantDp as string | undefined,
          rest: opts.restRateLimit as string | undefined,
        },
        faults,
        serverStats: { intervalSec: Math.max(0.1, opts.statsInterval as number), prometheus: opts.prometheus === true },
      },
      {
        logEvents: Boolean(opts.logEvents),
        summaryEverySec: opts.summaryEvery as number,
        exitWithParent: Number(opts.exitWithParent) || null,
        faults,
      },
    );
  });
}
