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
    .option('--max-devices <n>', "tenant profile's device limit; creating more answers 403/41 (0 = unlimited)", number('--max-devices'), 0)
    .option('--session-timeout <sec>', 'close MQTT sessions idle this long, seconds', number('--session-timeout'), 600)
    .option('--recent-rows <n>', 'rows per device kept with their values for raw history reads (exact delivery checks read them)', number('--recent-rows', 10_000_000), 100)
    .option('--rate-limit-device <spec>', 'transport messages per device, cap:sec,... (e.g. 20:1,600:60)')
    .option('--rate-limit-tenant <spec>', 'transport messages per tenant, cap:sec,... (e.g. 1000:1,20000:60)')
    .option('--rate-limit-device-dp <spec>', 'telemetry data points per device, cap:sec,...')
    .option('--rate-limit-tenant-dp <spec>', 'telemetry data points per tenant, cap:sec,...')
    .option('--rest-rate-limit <spec>', 'REST requests per tenant, cap:sec,... (excess → 429)')
    .option('--capacity <msg/s>', 'model a saturating server: MQTT telemetry served per second; beyond, PUBACKs wait in a queue (0 = off)', number('--capacity'), 0)
    .option('--capacity-queue <n>', 'messages that may wait for --capacity; more are dropped unstored, without PUBACK (0 = 5 s of work)', number('--capacity-queue'), 0)
    .addOption(new Option('--exit-with-parent <pid>', 'exit when process <pid> is gone (used by --embedded)').hideHelp())
    .option('--log-events', 'print every connect, refusal, disconnect and rate-limit hit on stderr')
    .option('--summary-every <sec>', 'print ingest totals on stderr this often while traffic flows, seconds (0 = never)', number('--summary-every'), 10);
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
      recentRowsPerDevice: opts.recentRows as number,
      maxDevices: opts.maxDevices as number,
      capacity: opts.capacity as number,
      capacityQueue: opts.capacityQueue as number,
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
    const cap = emulator.stats({ perDevice: false }).capacity;
    if (cap) say(ctx, `emulator: capacity ${cap.perSec} msg/s, queue bound ${cap.queueBound} messages`);
    if (active.length) say(ctx, `emulator: faults ${active.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (opts.logEvents) {
      emulator.events.on('connect', (e) => say(ctx, `connect ${e.deviceName} (MQTT v${e.protocolVersion === 4 ? '3.1.1' : e.protocolVersion === 3 ? '3.1' : '5'}, ${e.remote})`));
      emulator.events.on('connectRefused', (e) => say(ctx, `refused CONNACK ${e.returnCode} (${e.reason})`));
      emulator.events.on('disconnect', (e) => say(ctx, `disconnect ${e.deviceName} (${e.reason})`));
      emulator.events.on('rateLimited', (e) => say(ctx, `rate limited: ${e.scope}${e.deviceName ? ` ${e.deviceName}` : ''}`));
    }
    let last = { messages: 0, at: Date.now() };
    const every = (opts.summaryEvery as number) * 1000;
    const summary = every > 0 ? setInterval(() => {
      const s = emulator.stats({ perDevice: false });
      const now = Date.now();
      if (s.messages !== last.messages) {
        const rate = Math.round(((s.messages - last.messages) * 1000) / (now - last.at));
        say(ctx, `emulator: ${s.messages} messages (${rate} msg/s), ${s.connections.current} sessions, ${s.devices} devices`);
      }
      last = { messages: s.messages, at: now };
    }, every) : null;
    await new Promise<void>((resolve) => {
      const off = ctx.onSignal((signal) => {
        off();
        say(ctx, `emulator: ${signal}, closing`);
        resolve();
      });
      // an embedded emulator runs in its own process group; if the lab is killed outright
      // (SIGKILL, OOM) nothing would stop it, so it watches the lab's pid
      const parent = Number(opts.exitWithParent);
      if (parent > 0) {
        const watch = setInterval(() => {
          try { process.kill(parent, 0); } catch { clearInterval(watch); off(); say(ctx, `emulator: the lab (pid ${parent}) is gone, closing`); resolve(); }
        }, 1000);
        watch.unref();
      }
    });
    if (summary) clearInterval(summary);
    await emulator.close();
  });
}
