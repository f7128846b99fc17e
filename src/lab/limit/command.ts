// `tblab limit`: the target (src/lab/target.ts, --embedded provisions an emulator of its own), its
// fleet, one pipeline run per step (run-driver.ts), the search (search.ts), the limit report in the
// runs folder, the step table and verdict; the exit code says whether a limit inside the range was found.
import type { ResolvedConfig } from '../../config/index.js';
import { ExitCode, LabError } from '../../common/errors.js';
import { redactUrl } from '../../common/redact.js';
import type { LabContext } from '../context.js';
import { say as sayTo } from '../context.js';
import { resolveTarget, type LabTarget } from '../target.js';
import { provision } from '../provision.js';
import { selectFleet } from '../run.js';
import { readTokenFile, fleetFromTokenFile, tokensPath } from '../fleet-file.js';
import { runPreflight } from '../preflight.js';
import { acquirePidFile, instancePidPath } from '../pid-file.js';
import type { RunHandle } from '../pipeline/start.js';
import { limitDashboard, type LimitDashboard } from './dashboard.js';
import { checkPlan } from './plan.js';
import { parseSlo, defaultSlo } from './slo.js';
import { runLimitSearch } from './search.js';
import { buildVerdict, loadText } from './verdict.js';
import { runDriver } from './run-driver.js';
import { LIMIT_STATS_WINDOW_SEC } from './server-triage.js';
import { EMBEDDED_STATS_WINDOW_SEC, serverStatsForRun } from '../server-stats-run-sink.js';
import { checkSplitFlags, instanceSearch, type InstanceSearch } from './instances.js';
import { limitIdAt, renderLimitReport, writeLimitReport, type LimitReport } from './report.js';
import type { LimitDriver, LimitStep, LimitVerdict, Vary } from './types.js';

export interface LimitCommandOptions {
  vary: Vary;
  from: number;
  to: number;
  factor?: number;
  resolution?: number;
  stepHoldSec?: number;
  settleSec?: number;
  slo?: string[];
  embedded: boolean;
  /** `tblab emulator --capacity` of the embedded emulator (0 = off). */
  emulatorCapacity?: number;
  /** The embedded emulator's statistics window, s (default EMBEDDED_STATS_WINDOW_SEC; `tblab limit` sets its own). */
  statsWindowSec?: number;
  json: boolean;
}

/** `5%` → 0.05, `0.05` → 0.05, `5` → 0.05 (a bare number from 1 up is a percentage). */
export function parseResolution(text: string): number {
  const t = text.trim();
  const n = Number(t.endsWith('%') ? t.slice(0, -1) : t);
  if (t === '' || !Number.isFinite(n) || n <= 0) {
    throw new LabError('USAGE', {
      message: `--resolution expects a percentage like 5%, got ${JSON.stringify(text)}`,
      hint: 'Fix --resolution (docs/limit.md).',
    });
  }
  return t.endsWith('%') || n >= 1 ? n / 100 : n;
}

const ABORTED = () => new LabError('ABORTED', { message: 'limit search stopped by request' });

export async function limitCommand(ctx: LabContext, base: ResolvedConfig, o: LimitCommandOptions): Promise<number> {
  const say = (l: string) => sayTo(ctx, l);
  // bad input fails before anything starts
  const plan = checkPlan({ from: o.from, to: o.to, factor: o.factor, resolution: o.resolution });
  const slo = o.slo?.length ? o.slo : defaultSlo(o.vary);
  parseSlo(slo);
  if (o.stepHoldSec !== undefined && !(o.stepHoldSec >= 1)) {
    throw new LabError('USAGE', {
      message: `--step-hold must be at least 1 s, got ${o.stepHoldSec}`,
      hint: 'Fix --step-hold (docs/limit.md).',
    });
  }
  checkSplitFlags(base, ctx.env, o.embedded);
  if (o.emulatorCapacity && !o.embedded) {
    throw new LabError('USAGE', { message: '--emulator-capacity needs --embedded', hint: 'Add --embedded, or drop --emulator-capacity.' });
  }
  // each step sets its own duration: 0 here keeps the target's "DURATION_SEC is not set" notice out
  const devices = o.vary === 'devices' ? Math.max(base.deviceCount, Math.ceil(plan.to)) : base.deviceCount;
  const wanted = { ...base, deviceCount: devices, durationSec: base.durationSec ?? 0 };
  const emulatorArgs = o.emulatorCapacity ? ['--capacity', String(o.emulatorCapacity)] : [];
  // short statistics windows, so a step of seconds has several (server-triage.ts)
  emulatorArgs.push('--stats-interval', String(LIMIT_STATS_WINDOW_SEC));
  // raw rows per device for the delivery check's exact read-back of a step (the last --recent-rows wins)
  const hold = o.stepHoldSec ?? 60;
  const perDevice = o.vary === 'rate' ? (plan.to * hold) / devices : hold / base.publishIntervalSec;
  emulatorArgs.push('--recent-rows', String(Math.min(Math.ceil(perDevice) + 100, Math.max(100, Math.floor(2_000_000 / devices)))));
  const target = await resolveTarget(ctx, wanted as ResolvedConfig, { embedded: o.embedded, emulatorArgs });
  try {
    if (target.kind === 'embedded') {
      say(`creating ${target.config.deviceCount} devices…`);
      await provision(ctx, target.config, { progress: false });
    }
    return await limitOnTarget(ctx, target, { ...o, statsWindowSec: LIMIT_STATS_WINDOW_SEC });
  } finally {
    await target.close();
  }
}

/** The search against a resolved target whose fleet is on file (`tblab limit`, `tblab suite --limit`). */
export async function limitOnTarget(ctx: LabContext, target: LabTarget, o: LimitCommandOptions): Promise<number> {
  const plan = checkPlan({ from: o.from, to: o.to, factor: o.factor, resolution: o.resolution });
  const slo = o.slo?.length ? o.slo : defaultSlo(o.vary);
  const config = target.config;
  const t = readTokenFile(config.dataDir);
  if (!t) throw new LabError('NO_FLEET', { message: `No token file at ${tokensPath(config.dataDir)}` });
  const onFile = fleetFromTokenFile(t, config.devicePrefix);
  const { fleet, fleetSize } = selectFleet(config, onFile, tokensPath(config.dataDir));
  // instances split the whole fleet step by step (instances.ts)
  const whole = config.instance ? selectFleet({ ...config, instance: undefined }, onFile, tokensPath(config.dataDir)).fleet : fleet;
  if (o.vary === 'devices' && whole.length < plan.to) {
    throw new LabError('USAGE', {
      message: `--vary devices up to ${plan.to} needs that many devices, DEVICE_COUNT is ${whole.length}`,
      hint: 'Raise DEVICE_COUNT (--devices) and provision, or lower --to.',
    });
  }
  runPreflight(config, fleet, (l) => sayTo(ctx, l));
  const split = config.instance ? instanceSearch(config, whole, { ...o, ...plan }, ctx.now()) : null;
  return search(ctx, config, fleet, fleetSize, { ...o, ...plan, slo }, target.kind === 'embedded', split);
}

async function search(
  ctx: LabContext,
  config: ResolvedConfig,
  fleet: ReturnType<typeof selectFleet>['fleet'],
  fleetSize: number,
  o: LimitCommandOptions & { slo: string[]; factor: number; resolution: number },
  embedded: boolean,
  split: InstanceSearch | null,
): Promise<number> {
  const say = (l: string) => sayTo(ctx, l);
  const startedAt = ctx.now();
  const limitId = split?.limitId ?? limitIdAt(startedAt);
  const pid = acquirePidFile(instancePidPath(config.pidFile, config.instance), {
    pid: process.pid,
    runId: limitId,
    startedAt: new Date(startedAt).toISOString(),
    instance: null,
    dashboardUrl: null,
    controlTokenFile: null,
  });
  let current: RunHandle | null = null;
  let aborted = false;
  const stop = (reason: string) => {
    aborted = true;
    current?.stop(reason);
  };
  const stepRuns: string[] = [];
  const steps: LimitStep[] = [];
  let dash: LimitDashboard | null = null;
  try {
    dash = config.dashboard ? await limitDashboard(config, { limitId, vary: o.vary, pid, onStop: stop, log: say }) : null;
  } catch (e) {
    pid.release();
    throw e;
  }
  const unsignal = ctx.onSignal((sig) => stop(sig));
  const hooks = {
    sinks: () => (dash ? [dash.stepSink()] : []),
    serverStats: () =>
      serverStatsForRun(config, {
        embedded,
        windowSec: embedded ? (o.statsWindowSec ?? EMBEDDED_STATS_WINDOW_SEC) : undefined,
        say: (l) => (l.startsWith('ThingsBoard verdict:') ? say(`limit: ${l}`) : undefined),
      }),
    onRun: (run: RunHandle) => {
      current = run;
    },
    onReport: (r: { runId: string }) => stepRuns.push(r.runId),
  };
  const base = split ? split.driver(hooks) : runDriver({ vary: o.vary, config, fleet, fleetSize, ...hooks });
  const driver: LimitDriver = {
    async runStep(load, holdSec) {
      if (aborted) throw ABORTED();
      say(`limit: step ${steps.length + 1}: ${load} ${o.vary === 'rate' ? 'msg/s' : o.vary} for ${holdSec} s…`);
      dash?.stepStarted(load, holdSec);
      return base.runStep(load, holdSec);
    },
    async settle(seconds) {
      if (!aborted) await base.settle!(seconds);
    },
  };
  const onStep = (s: LimitStep) => {
    steps.push(s);
    dash?.stepJudged(s);
    const failed = s.objectives
      .filter((x) => x.verdict === 'fail')
      .map((x) => x.text)
      .join(', ');
    say(`limit: ${loadText(o.vary, s)}: ${s.retried ? 'failed, retrying once' : s.passed ? 'pass' : `FAIL (${failed})`}`);
  };
  let verdict: LimitVerdict;
  try {
    const ladder = split?.run(driver, { slo: o.slo, now: () => ctx.now(), aborted: () => aborted, onStep, say });
    verdict = await (
      ladder ??
      runLimitSearch(driver, {
        vary: o.vary,
        from: o.from,
        to: o.to,
        factor: o.factor,
        resolution: o.resolution,
        stepHoldSec: o.stepHoldSec,
        settleSec: o.settleSec,
        slo: o.slo,
        onStep,
        intervalSecAt: (load) => (o.vary === 'rate' ? fleet.length / load : config.publishIntervalSec),
      })
    ).catch((e: unknown) => {
      // stopped by request: the verdict of the steps run so far
      if (!(e instanceof LabError && e.code === 'ABORTED')) throw e;
      return buildVerdict(o.vary, o.resolution, o.slo, steps, o.to);
    });
  } catch (e) {
    unsignal();
    pid.release();
    await dash?.close();
    throw e;
  }
  unsignal();
  dash?.done(verdict);
  const report: LimitReport = {
    tool: 'tb-load-lab',
    kind: 'limit',
    schemaVersion: 1,
    limitId,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(ctx.now()).toISOString(),
    aborted,
    target: { tbUrl: redactUrl(config.tbUrl), mqtt: `${config.mqttHost}:${config.mqttPort}`, embedded },
    setup: {
      devices: fleet.length,
      qos: config.qos,
      shards: config.shards,
      publishIntervalSec: config.publishIntervalSec,
      connectRate: config.connectRate,
    },
    stepRuns,
    limit: verdict,
    ...(split ? { schedule: split.schedule() } : {}),
  };
  const path = writeLimitReport(config.dataDir, report);
  if (o.json) ctx.stdout.write(JSON.stringify({ report: path, aborted, limit: verdict }) + '\n');
  else ctx.stdout.write(renderLimitReport(report, path));
  say(`limit report: ${path}`);
  if (dash && config.keepDashboard && !aborted) {
    say(`dashboard: the search has ended; ${dash.url} keeps showing it — Ctrl+C to exit`);
    await new Promise<void>((resolve) => {
      const off = ctx.onSignal(() => {
        off();
        resolve();
      });
    });
  }
  await dash?.close();
  pid.release();
  return aborted ? ExitCode.ABORTED : verdict.exitCode;
}
