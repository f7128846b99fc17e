// `tblab run`: the fleet from tokens.json (or an embedded emulator), the pid file, signals, the
// supervisor, progress on stderr and the report path/summary on stdout (--json).
import { join } from 'node:path';
import { LabError, ExitCode, describeError } from '../shared/errors.js';
import { sliceBounds, type FleetDevice } from '../shared/fleet.js';
import type { ResolvedConfig } from '../config/index.js';
import type { RunContext } from '../cli/context.js';
import { startRun, type RunHandle } from '../engine/supervisor.js';
import type { RunReport } from '../report/schema.js';
import { readTokenFile, fleetFromTokenFile, tokensPath } from './fleet-file.js';
import { acquirePidFile, instancePidPath, type HeldPidFile } from './pid-file.js';
import { startEmbeddedEmulator, type EmbeddedEmulator } from './embedded.js';
import { provision } from './provision.js';
import { attachDashboard, type LiveDashboard } from './live-dashboard.js';
import { withInstance, runIdFor } from './instance.js';
import { attachDelivery, type DeliveryCheck } from './delivery/check.js';
import { embeddedEmulatorArgs } from './delivery/emulator-path.js';

export interface RunLabOptions {
  /** Start an emulator child process and provision into it. */
  embedded?: boolean;
  /** Print a JSON summary (report path, totals) on stdout. */
  json?: boolean;
  /** Called once the run started (the dashboard subscribes here and records its URL in the pid file). */
  onStart?: (run: RunHandle, pidFile: HeldPidFile) => void | Promise<void>;
  /** Extra report sections before the final write (delivery, thresholds). */
  beforeFinalReport?: (report: RunReport) => Promise<void>;
  /** The target is an emulator the caller started (`suite --embedded`): delivery also reads its own stats. */
  emulatorUrl?: string;
}

/** The devices of this run: the first DEVICE_COUNT of tokens.json, sliced for INSTANCE. */
export function selectFleet(config: ResolvedConfig, all: FleetDevice[], source: string): { fleet: FleetDevice[]; fleetSize: number } {
  if (all.length < config.deviceCount) {
    throw new LabError('NO_FLEET', {
      message: `${source} has ${all.length} device(s) named ${config.devicePrefix}-NNN but DEVICE_COUNT is ${config.deviceCount}`,
      hint: 'Run `tblab provision` for the full count, or lower DEVICE_COUNT (--devices).',
    });
  }
  const fleet = all.slice(0, config.deviceCount);
  if (!config.instance) return { fleet, fleetSize: fleet.length };
  const { start, end } = sliceBounds(fleet.length, config.instance.index, config.instance.count);
  return { fleet: fleet.slice(start, end), fleetSize: fleet.length };
}

export async function runLab(ctx: RunContext, base: ResolvedConfig, opts: RunLabOptions = {}): Promise<{ exitCode: number; report: RunReport }> {
  const say = (l: string) => ctx.stderr.write(l + '\n');
  let emulator: EmbeddedEmulator | null = null;
  let config = withInstance(base, ctx.env, say);
  let all: FleetDevice[];
  let source: string;
  try {
    if (opts.embedded) {
      say('starting the embedded emulator…');
      emulator = await startEmbeddedEmulator(embeddedEmulatorArgs(base));
      say(`emulator: REST ${emulator.restUrl}, MQTT ${emulator.mqttHost}:${emulator.mqttPort}; creating ${base.deviceCount} devices…`);
      config = Object.freeze({ ...base, tbUrl: emulator.restUrl, mqttHost: emulator.mqttHost, mqttPort: emulator.mqttPort, mqttTls: false, instance: undefined });
      // the emulator's fleet lives under <DATA_DIR>/embedded: the real tokens.json stays untouched
      const fleetDir = join(base.dataDir, 'embedded');
      await provision({ ...config, dataDir: fleetDir }, { progress: false }, { stderr: ctx.stderr });
      all = fleetFromTokenFile(readTokenFile(fleetDir)!, config.devicePrefix);
      source = tokensPath(fleetDir);
    } else {
      const t = readTokenFile(config.dataDir);
      if (!t) throw new LabError('NO_FLEET', { message: `No token file at ${tokensPath(config.dataDir)}` });
      all = fleetFromTokenFile(t, config.devicePrefix);
      source = tokensPath(config.dataDir);
    }
    const { fleet, fleetSize } = selectFleet(config, all, source);
    const runId = runIdFor(config);
    const pid = acquirePidFile(instancePidPath(config.pidFile, config.instance), {
      pid: process.pid, runId, startedAt: new Date().toISOString(), instance: config.instance ? `${config.instance.index}/${config.instance.count}` : null,
      dashboardUrl: null, controlTokenFile: null,
    });
    let unsignal = () => {};
    let dashboard: LiveDashboard | null = null;
    let delivery: DeliveryCheck | null = null;
    try {
      const beforeFinalReport = async (r: RunReport) => {
        // the report is written whatever happens here
        await delivery?.finish(r).catch((e: unknown) => say(`delivery check failed: ${describeError(e)}`));
        await opts.beforeFinalReport?.(r);
      };
      const run = startRun({ config, fleet, fleetSize, runId, restUrl: config.tbUrl, log: say, beforeFinalReport });
      // before onStart: the dashboard then sees snapshots with `delivery` filled in
      if (config.deliveryCheck) delivery = attachDelivery(run, { config, fleet, emulatorUrl: emulator?.restUrl ?? opts.emulatorUrl ?? null, progress: ctx.stderr, log: say });
      unsignal = ctx.onSignal((sig) => run.stop(sig));
      if (config.dashboard) {
        try {
          dashboard = await attachDashboard(run, config, pid, say);
        } catch (e) {
          run.stop('the dashboard could not start');
          await run.done.catch(() => undefined);
          throw e;
        }
      }
      let lastProgress = 0;
      run.on('snapshot', (s) => {
        if (Date.now() - lastProgress < 5000 || s.state === 'finished') return;
        lastProgress = Date.now();
        say(`${s.elapsedSec.toFixed(0)}s ${s.state}: connected ${s.connections.connected}/${s.connections.configured}, sent ${s.traffic.sent} (${s.traffic.sentPerSec}/s), acked ${s.traffic.acked}, failed ${s.traffic.failed}, ack p99 ${s.latency.ackMs.p99 ?? '-'} ms, lag p99 ${s.latency.scheduleLagMs.p99 ?? '-'} ms`);
      });
      if (opts.onStart) await opts.onStart(run, pid);
      const report = await run.done;
      if (dashboard && config.keepDashboard) {
        dashboard.showFinal(report);
        say(`dashboard: the run has ended; ${dashboard.url} keeps showing its final state — Ctrl+C to exit`);
        await new Promise<void>((resolve) => { const off = ctx.onSignal(() => { off(); resolve(); }); });
      }
      await dashboard?.close(report);
      if (opts.json) {
        const m = report.metrics;
        ctx.stdout.write(JSON.stringify({ runId: report.runId, report: run.reportPath, outcome: report.outcome, endReason: report.endReason, sent: m.traffic.sent, acked: m.traffic.acked, failed: m.traffic.failed, skipped: m.traffic.skipped, connected: m.connections.peakConnected, collapse: m.collapse, generator: m.generator.verdict, delivery: report.delivery?.totals ?? null }) + '\n');
      } else if (run.reportPath) say(`report: ${run.reportPath}`);
      const exitCode = report.outcome === 'aborted' ? ExitCode.ABORTED : report.outcome === 'failed' ? ExitCode.INTERNAL : ExitCode.OK;
      return { exitCode, report };
    } finally {
      await dashboard?.close();
      await delivery?.close();
      unsignal();
      pid.release();
    }
  } finally {
    await emulator?.close();
  }
}
