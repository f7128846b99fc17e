// `tblab emulator`: the embedded ThingsBoard emulator on its own. Prints `REST http://…` and
// `MQTT mqtt://…` on stdout once listening (with --workers, `MQTT_ENDPOINTS host:port,…` before the
// `MQTT` line), runs until SIGINT/SIGTERM, then closes cleanly.
import type { EmulatorOptions } from '../emulator/index.js';
import type { LabContext } from './context.js';
import { say } from './context.js';

export interface EmulatorRunOptions {
  /** Print every connect, refusal, disconnect and rate-limit hit on stderr. */
  logEvents: boolean;
  /** Ingest totals on stderr this often while traffic flows, seconds (0 = never). */
  summaryEverySec: number;
  /** Close when this process is gone (the lab of `--embedded`), else null. */
  exitWithParent: number | null;
  /** The faults set (for the start-up line). */
  faults: Record<string, number>;
}

/** Creates the emulator, serves until a signal (or the parent lab is gone), then closes it. */
export async function runEmulator(ctx: LabContext, options: EmulatorOptions, o: EmulatorRunOptions): Promise<void> {
  const { createEmulator } = await import('../emulator/index.js');
  const emulator = createEmulator(options);
  const addr = await emulator.listen();
  const workers = emulator.options.workers;
  const endpoints = workers > 0 ? `MQTT_ENDPOINTS ${addr.mqttEndpoints.join(',')}\n` : '';
  ctx.stdout.write(`REST ${addr.restUrl}\n${endpoints}MQTT ${addr.mqttUrl}\n`);
  if (workers > 0) say(ctx, `emulator: ${workers} MQTT transport worker${workers > 1 ? 's' : ''} on ${addr.mqttEndpoints.join(', ')}`);
  emulator.events.on('workerExit', (e) =>
    say(
      ctx,
      `emulator: MQTT worker ${e.index} (port ${e.port}) exited (${e.signal ?? `code ${e.code}`}); ${e.sockets} sockets closed; restarting it`,
    ),
  );
  const guarded = emulator.options.controlToken ? ' (send the control token as X-Emulator-Token)' : '';
  say(ctx, `emulator: tenant login ${emulator.options.username}; stats at ${addr.restUrl}/__emulator/stats${guarded}; Ctrl+C to stop`);
  const active = Object.entries(o.faults).filter(([, v]) => v > 0);
  const cap = emulator.stats({ perDevice: false }).capacity;
  if (cap) say(ctx, `emulator: capacity ${cap.perSec} msg/s, queue bound ${cap.queueBound} messages`);
  const conn = emulator.stats({ perDevice: false }).connectCapacity;
  if (conn) say(ctx, `emulator: connect capacity ${conn.perSec} CONNECTs/s, validation timeout ${conn.timeoutMs} ms`);
  if (active.length) say(ctx, `emulator: faults ${active.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (o.logEvents) {
    const version = (v: number) => (v === 4 ? '3.1.1' : v === 3 ? '3.1' : '5');
    emulator.events.on('connect', (e) => say(ctx, `connect ${e.deviceName} (MQTT v${version(e.protocolVersion)}, ${e.remote})`));
    emulator.events.on('connectRefused', (e) => say(ctx, `refused CONNACK ${e.returnCode} (${e.reason})`));
    emulator.events.on('disconnect', (e) => say(ctx, `disconnect ${e.deviceName} (${e.reason})`));
    emulator.events.on('rateLimited', (e) => say(ctx, `rate limited: ${e.scope}${e.deviceName ? ` ${e.deviceName}` : ''}`));
  }
  let last = { messages: 0, at: ctx.now() };
  const every = o.summaryEverySec * 1000;
  const summary =
    every > 0
      ? setInterval(() => {
          const s = emulator.stats({ perDevice: false });
          const now = ctx.now();
          if (s.messages !== last.messages) {
            const rate = Math.round(((s.messages - last.messages) * 1000) / (now - last.at));
            say(ctx, `emulator: ${s.messages} messages (${rate} msg/s), ${s.connections.current} sessions, ${s.devices} devices`);
          }
          last = { messages: s.messages, at: now };
        }, every)
      : null;
  await new Promise<void>((resolve) => {
    const off = ctx.onSignal((signal) => {
      off();
      say(ctx, `emulator: ${signal}, closing`);
      resolve();
    });
    // an embedded emulator runs in its own process group; if the lab is killed outright
    // (SIGKILL, OOM) nothing would stop it, so it watches the lab's pid
    const parent = o.exitWithParent ?? 0;
    if (parent > 0) {
      const watch = setInterval(() => {
        try {
          process.kill(parent, 0);
        } catch {
          clearInterval(watch);
          off();
          say(ctx, `emulator: the lab (pid ${parent}) is gone, closing`);
          resolve();
        }
      }, 1000);
      watch.unref();
    }
  });
  if (summary) clearInterval(summary);
  await emulator.close();
}
