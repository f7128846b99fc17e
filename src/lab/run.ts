// `tblab run`: the target (src/lab/target.ts), its fleet, the pid file, signals, the run pipeline
// with its sinks (delivery check, thresholds, dashboard, console progress), the report path and
// summary on stdout (--json). `tblab suite` runs through runLab too, so both wire the same sinks.
import { ExitCode } from '../common/errors.js';
import type { ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { say as sayTo } from './context.js';
import type { RunReport } from '../report/schema.js';
import { acquirePidFile, instancePidPath } from './pid-file.js';
import { provision } from './provision.js';
import { provisionGateways } from './provision-gateways.js';
import { fleetParts, runFleet } from './run-fleet.js';
import { liveDashboard, type LiveDashboard } from './live-dashboard.js';
import { runIdFor } from './instance.js';
import { deliveryCheck, type DeliveryCheck } from './delivery/check.js';
import { fleetWorkloads } from '../common/workloads.js';
import { consoleProgress } from './progress.js';
import { runLog } from './run-log.js';
import { prepareThresholds, type ThresholdRun, type ThresholdRunOptions } from './thresholds.js';
import { resolveTarget, type LabTarget } from './target.js';
import { startRun } from './pipeline/start.js';
import { runPreflight } from './preflight.js';
import { pausedNotice } from './paused-notice.js';
import type { RunSink } from './pipeline/sink.js';
import { serverStatsForRun } from './server-stats-run-sink.js';
import { assignWorkloads } from './workload-fleet.js';

export interface RunLabOptions {
  /** Print a JSON summary (report path, totals) on stdout. */
  json?: boolean;
  /** Parsed thresholds (prepareThresholds): a sink of the run; they set the exit code. */
  thresholds?: ThresholdRun;
}

export { selectFleet } from './run-fleet.js';

/** The exit code of a finished run (docs/errors.md#run-outcomes): the problem's code, else by outcome. */
export function runExitCode(report: RunReport): number {
  if (report.problem) return report.problem.exitCode;
  return report.outcome === 'aborted' ? ExitCode.ABORTED : report.outcome === 'failed' ? ExitCode.INTERNAL : ExitCode.OK;
}

/** `tblab run`: thresholds parsed first, then the target (an embedded one is provisioned), then the run. */
export async function runCommand(
  ctx: LabContext,
  base: ResolvedConfig,
  o: { embedded: boolean; json: boolean; thresholds: ThresholdRunOptions },
): Promise<number> {
  const thresholds = prepareThresholds(o.thresholds);
  const target = await resolveTarget(ctx, base, { embedded: o.embedded });
  try {
    if (target.kind === 'embedded') {
      const parts = fleetParts(target.config);
      if (parts.devices) {
        sayTo(ctx, `creating ${target.config.deviceCount} devices…`);
        await provision(ctx, target.config, { progress: false });
      }
      if (parts.gateways) {
        sayTo(ctx, `creating ${target.config.gateways} gateways (their children are created by their first connect)…`);
        await provisionGateways(ctx, target.config);
      }
    }
    const { exitCode } = await runLab(ctx, target, { json: o.json, thresholds });
    if (thresholds.results) sayTo(ctx, thresholds.render());
    return exitCode;
  } finally {
    await target.close();
  }
}

/** One run against a resolved target whose fleet is on file; the exit code includes the thresholds. */
export async function runLab(
  ctx: LabContext,
  target: LabTarget,
  opts: RunLabOptions = {},
): Promise<{ exitCode: number; report: RunReport }> {
  const say = (l: string) => sayTo(ctx, l);
  const config = target.config;
  // a gateway's children count as connections here: the plan errs on the safe side for them
  const selected = runFleet(config);
  const fleetSize = selected.fleetSize;
  const fleet = assignWorkloads(selected.fleet, config.workloads, { http: config.httpDevices }, fleetSize);
  runPreflight(config, fleet, say);
  const paused = pausedNotice(config, fleet);
  if (paused) say(paused);
  const runId = runIdFor(config, new Date(ctx.now()));
  const pid = acquirePidFile(instancePidPath(config.pidFile, config.instance), {
    pid: process.pid,
    runId,
    startedAt: new Date(ctx.now()).toISOString(),
    instance: config.instance ? `${config.instance.index}/${config.instance.count}` : null,
    dashboardUrl: null,
    controlTokenFile: null,
  });
  // overlays alone (rpc, attributes) publish no telemetry: nothing for the delivery check to count
  const delivery: DeliveryCheck | null =
    config.deliveryCheck && fleetWorkloads(config.workloads).length > 0
      ? deliveryCheck({ config, fleet, emulatorUrl: target.emulatorUrl, progress: ctx.stderr, log: say })
      : null;
  const dashboard: LiveDashboard | null = config.dashboard ? liveDashboard(config, pid, say) : null;
  const progress = consoleProgress(say, 5000, () => ctx.now());
  const log = runLog({ dataDir: config.dataDir, logEveryMessage: config.logEveryMessage });
  // after the delivery check: it reads the delivery section at judge
  const serverStats = serverStatsForRun(config, { embedded: target.kind === 'embedded', say });
  const sinks = [delivery, serverStats, opts.thresholds ?? null, dashboard, progress, log].filter((s): s is RunSink => s !== null);
  let unsignal = () => {};
  try {
    const run = startRun({ config, fleet, fleetSize, runId, restUrl: config.tbUrl, log: say, sinks });
    unsignal = ctx.onSignal((sig) => run.stop(sig));
    await run.started;
    const report = await run.done;
    if (dashboard?.url && config.keepDashboard) {
      say(`dashboard: the run has ended; ${dashboard.url} keeps showing its final state — Ctrl+C to exit`);
      await new Promise<void>((resolve) => {
        const off = ctx.onSignal(() => {
          off();
          resolve();
        });
      });
    }
    if (opts.json) {
      const m = report.metrics;
      ctx.stdout.write(
        JSON.stringify({
          runId: report.runId,
          report: run.reportPath,
          outcome: report.outcome,
          endReason: report.endReason,
          sent: m.traffic.sent,
          acked: m.traffic.acked,
          failed: m.traffic.failed,
          skipped: m.traffic.skipped,
          connected: m.connections.peakConnected,
          collapse: m.collapse,
          generator: m.generator.verdict,
          delivery: report.delivery?.totals ?? null,
          problem: report.problem ?? null,
        }) + '\n',
      );
    } else if (run.reportPath) say(`report: ${run.reportPath}`);
    if (report.problem) say(`${report.outcome} [${report.problem.code}]: ${report.problem.message}\n  hint: ${report.problem.hint}`);
    return { exitCode: opts.thresholds ? opts.thresholds.exitCode(runExitCode(report)) : runExitCode(report), report };
  } finally {
    await dashboard?.close();
    await delivery?.close();
    await serverStats?.close();
    unsignal();
    pid.release();
  }
}
