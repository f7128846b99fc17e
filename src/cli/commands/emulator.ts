// `tblab emulator`: the embedded ThingsBoard emulator on its own. Prints `REST http://…` and
// `MQTT mqtt://…` on stdout once listening, runs until SIGINT/SIGTERM, then closes cleanly.
import { Option, type Command } from 'commander';
import type { RunContext } from '../context.js';
import { say } from '../context.js';
import { LabError } from '../../shared/errors.js';

function port(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535) throw new LabError('USAGE', { message: `${flag} expects a port number 0–65535 (0 = any free port), got ${JSON.stringify(v)}` });
    return n;
  };
}

function number(flag: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) throw new LabError('USAGE', { message: `${flag} expects a number from 0 to ${max}, got ${JSON.stringify(v)}` });
    return n;
  };
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
] as const;

export function registerEmulator(program: Command, ctx: RunContext): void {
  const cmd = program
    .command('emulator')
    .description('run the embedded ThingsBoard emulator (REST + HTTP device API + MQTT) until Ctrl+C')
    .option('--host <address>', 'bind address of both listeners', '127.0.0.1')
    .option('--http-port <port>', 'REST/HTTP port (0 = any free port)', port('--http-port'), 8080)
    .option('--mqtt-port <port>', 'MQTT port (0 = any free port)', port('--mqtt-port'), 1883)
    .option('--username <email>', 'tenant administrator login', 'tenant@thingsboard.org')
    .option('--password <password>', 'tenant administrator password', 'tenant')
    .option('--jwt-lifetime <sec>', 'access JWT lifetime, seconds', number('--jwt-lifetime'), 9000)
    .option('--refresh-lifetime <sec>', 'refresh JWT lifetime, seconds', number('--refresh-lifetime'), 604800)
    .option('--session-timeout <sec>', 'close MQTT sessions idle this long, seconds', number('--session-timeout'), 600)
    .option('--rate-limit-device <spec>', 'transport messages per device, cap:sec,... (e.g. 20:1,600:60)')
    .option('--rate-limit-tenant <spec>', 'transport messages per tenant, cap:sec,... (e.g. 1000:1,20000:60)')
    .option('--rate-limit-device-dp <spec>', 'telemetry data points per device, cap:sec,...')
    .option('--rate-limit-tenant-dp <spec>', 'telemetry data points per tenant, cap:sec,...')
    .option('--rest-rate-limit <spec>', 'REST requests per tenant, cap:sec,... (excess → 429)');
  for (const [flag, doc, , max] of FAULT_FLAGS) cmd.addOption(new Option(flag, `fault: ${doc}`).argParser(number(flag.split(' ')[0], max === 1 ? 1 : undefined)));

  cmd.action(async (opts: Record<string, unknown>) => {
    const { createEmulator } = await import('../../emulator/index.js');
    const faults: Record<string, number> = {};
    for (const [flag, , key] of FAULT_FLAGS) {
      const prop = flag.slice(2, flag.indexOf(' ')).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (opts[prop] !== undefined) faults[key] = opts[prop] as number;
    }
    const emulator = createEmulator({
      host: opts.host as string,
      httpPort: opts.httpPort as number,
      mqttPort: opts.mqttPort as number,
      username: opts.username as string,
      password: opts.password as string,
      jwtLifetimeSec: opts.jwtLifetime as number,
      refreshLifetimeSec: opts.refreshLifetime as number,
      sessionInactivityTimeoutMs: (opts.sessionTimeout as number) * 1000,
      rateLimits: {
        device: opts.rateLimitDevice as string | undefined,
        tenant: opts.rateLimitTenant as string | undefined,
        deviceDataPoints: opts.rateLimitDeviceDp as string | undefined,
        tenantDataPoints: opts.rateLimitTenantDp as string | undefined,
        rest: opts.restRateLimit as string | undefined,
      },
      faults,
    });
    const addr = await emulator.listen();
    ctx.stdout.write(`REST ${addr.restUrl}\nMQTT ${addr.mqttUrl}\n`);
    say(ctx, `emulator: tenant login ${emulator.options.username}; stats at ${addr.restUrl}/__emulator/stats; Ctrl+C to stop`);
    const active = Object.entries(faults).filter(([, v]) => v > 0);
    if (active.length) say(ctx, `emulator: faults ${active.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    await new Promise<void>((resolve) => {
      const off = ctx.onSignal((signal) => {
        off();
        say(ctx, `emulator: ${signal}, closing`);
        resolve();
      });
    });
    await emulator.close();
  });
}
