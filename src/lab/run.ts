// `tblab run`: the fleet from tokens.json (or an embedded emulator), the pid file, signals, the
// supervisor, progress on stderr and the report path/summary on stdout (--json).
import { LabError, ExitCode } from '../shared/errors.js';
import { sliceBounds, type FleetDevice } from '../shared/fleet.js';
import type { ResolvedConfig } from '../config/index.js';
import type { RunContext } from '../cli/context.js';
import { startRun, type RunHandle } from '../engine/supervisor.js';
import { makeRunId } from '../engine/run-files.js';
import type { RunReport } from '../report/schema.js';
import { readTokenFile, fleetFromTokenFile, tokensPath } from './fleet-file.js';
import { acquirePidFile, instancePidPath } from './pid-file.js';
import { startEmbeddedEmulator, createEmbeddedFleet, type EmbeddedEmulator } from './embedded.js';

export interface RunLabOptions {
  /** Start an emulator child process and provision into it. */
  embedded?: boolean;
  /** Print a JSON summary (report path, totals) on stdout. */
  json?: boolean;
  /** Called once the run started (the dashboard subscribes here). */
  onStart?: (run: RunHandle) => void | Promise<void>;
  /** Extra report sections before the final write (delivery, thresholds). */
  beforeFinalReport?: (report: RunReport) => Promise<void>;
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
  let config = base;
  let all: FleetDevice[];
  let source: string;
  try {
    if (opts.embedded) {
      say('starting the embedded emulator…');
      emulator = await startEmbeddedEmulator();
      say(`emulator: REST ${emulator.restUrl}, MQTT ${emulator.mqttHost}:${emulator.mqttPort}; creating ${base.deviceCount} devices…`);
      config = Object.freeze({ ...base, tbUrl: emulator.restUrl, mqttHost: emulator.mqttHost, mqttPort: emulator.mqttPort, mqttTls: false });
      all = await createEmbeddedFleet(emulator.restUrl, base.tbUsername, base.tbPassword, base.devicePrefix, base.deviceCount);
      source = 'the embedded emulator';
    } else {
      const t = readTokenFile(config.dataDir);
      if (!t) throw new LabError('NO_FLEET', { message: `No token file at ${tokensPath(config.dataDir)}` });
      all = fleetFromTokenFile(t, config.devicePrefix);
      source = tokensPath(config.dataDir);
    }
    const { fleet, fleetSize } = selectFleet(config, all, source);
    const runId = makeRunId(new Date(), config.instance ?? null);
    const pid = acquirePidFile(instancePidPath(config.pidFile, config.instance), {
      pid: process.pid, runId, startedAt: new Date().toISOString(), instance: config.instance ? `${config.instance.index}/${config.instance.count}` : null,
      dashboardUrl: null, controlTokenFile: null,
    });
    let unsignal = () => {};
    try {
      const run = startRun({ config, fleet, fleetSize, runId, restUrl: config.tbUrl, log: say, ...(opts.beforeFinalReport ? { beforeFinalReport: opts.beforeFinalReport } : {}) });
      unsignal = ctx.onSignal((sig) => run.stop(sig));
      let lastProgress = 0;
      run.on('snapshot', (s) => {
        if (Date.now() - lastProgress < 5000 || s.state === 'finished') return;
        lastProgress = Date.now();
        say(`${s.elapsedSec.toFixed(0)}s ${s.state}: connected ${s.connections.connected}/${s.connections.configured}, sent ${s.traffic.sent} (${s.traffic.sentPerSec}/s), acked ${s.traffic.acked}, failed ${s.traffic.failed}, ack p99 ${s.latency.ackMs.p99 ?? '-'} ms, lag p99 ${s.latency.scheduleLagMs.p99 ?? '-'} ms`);
      });
      if (opts.onStart) await opts.onStart(run);
      const report = await run.done;
      if (opts.json) {
        const m = report.metrics;
        ctx.stdout.write(JSON.stringify({ runId: report.runId, report: run.reportPath, outcome: report.outcome, endReason: report.endReason, sent: m.traffic.sent, acked: m.traffic.acked, failed: m.traffic.failed, skipped: m.traffic.skipped, connected: m.connections.peakConnected, collapse: m.collapse, generator: m.generator.verdict }) + '\n');
      } else if (run.reportPath) say(`report: ${run.reportPath}`);
      const exitCode = report.outcome === 'aborted' ? ExitCode.ABORTED : report.outcome === 'failed' ? ExitCode.INTERNAL : ExitCode.OK;
      return { exitCode, report };
    } finally {
      unsignal();
      pid.release();
    }
  } finally {
    await emulator?.close();
  }
}
