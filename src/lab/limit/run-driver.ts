// A LimitDriver backed by real runs: one pipeline run (src/lab/pipeline/start.ts) per step, with the
// delivery check as a sink when DELIVERY_CHECK is on, measured by measureRunStep.
import type { ResolvedConfig } from '../../config/index.js';
import type { FleetDevice } from '../../common/fleet.js';
import { LabError } from '../../common/errors.js';
import type { RunReport } from '../../report/schema.js';
import { startRun, type RunHandle } from '../pipeline/start.js';
import type { RunSink } from '../pipeline/sink.js';
import { deliveryCheck, type DeliveryCheck } from '../delivery/check.js';
import { assignWorkloads } from '../workload-fleet.js';
import { measureRunStep, sampleOf, type LiveSample } from './measure.js';
import { rateLimitOfStep } from './rate-limit.js';
import { stepServerOf } from './server-triage.js';
import type { ServerStatsRunSink } from '../server-stats-run-sink.js';
import { connectRampPerSec } from './connect-ramp.js';
import type { LimitDriver, StepMeasurement, Vary } from './types.js';

export interface RunDriverOptions {
  vary: Vary;
  /** The target's configuration; each step overrides the interval, duration, fleet or connect rate. */
  config: ResolvedConfig;
  /** The fleet on file (with ThingsBoard ids); `--vary devices` uses its first `load` devices. */
  fleet: FleetDevice[];
  fleetSize?: number;
  /** ThingsBoard's statistics over each step (a new sink per step); absent or null = not read. */
  serverStats?: () => ServerStatsRunSink | null;
  /** Further sinks of each step's run (a dashboard). */
  sinks?: (step: { load: number; index: number }) => RunSink[];
  log?: (line: string) => void;
  /** Each step's report (the limit section lists them). */
  onReport?: (report: RunReport, load: number) => void;
  /** Each step's run as it starts (a signal handler stops it). */
  onRun?: (run: RunHandle) => void;
  /** The run id of the step at `load` (default a fresh time-stamped one). */
  runIdOf?: (load: number) => string;
}

/** The step's configuration and fleet. Pure. */
export function stepRun(o: Pick<RunDriverOptions, 'vary' | 'config' | 'fleet'>, load: number, holdSec: number) {
  const c = o.config;
  const fleet = o.vary === 'devices' ? o.fleet.slice(0, Math.round(load)) : o.fleet;
  if (fleet.length < load && o.vary === 'devices') {
    throw new LabError('USAGE', {
      message: `--vary devices needs ${Math.round(load)} devices, the fleet has ${o.fleet.length}`,
      hint: 'Provision more devices (DEVICE_COUNT, `tblab provision`) or lower --to.',
    });
  }
  const connectRate = o.vary === 'connect-rate' ? Math.round(load) : c.connectRate;
  // the hold starts once the fleet is connected: add the ramp at the connect rate
  const rampSec = connectRate > 0 ? Math.ceil(fleet.length / connectRate) + 1 : 1;
  const publishIntervalSec = o.vary === 'rate' ? fleet.length / load : c.publishIntervalSec;
  const config: ResolvedConfig = { ...c, stages: '', durationSec: holdSec + rampSec, publishIntervalSec, connectRate } as ResolvedConfig;
  return { config, fleet };
}

export function runDriver(o: RunDriverOptions): LimitDriver {
  let index = 0;
  // the server is quiet from the end of a step's drain: its delivery check and statistics reads count as settle time
  let quietSince = 0;
  const quiet: RunSink = {
    name: 'limit settle clock',
    end() {
      quietSince = Date.now();
      return {};
    },
  };
  return {
    async settle(seconds) {
      const left = seconds * 1000 - (quietSince ? Date.now() - quietSince : 0);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    },
    async runStep(load, holdSec): Promise<StepMeasurement> {
      const step0 = stepRun(o, load, holdSec);
      const config = step0.config;
      // one assigned fleet for the run and its delivery check (http devices are checked as http devices)
      const fleet = assignWorkloads(step0.fleet, config.workloads, { http: config.httpDevices }, o.fleetSize);
      const delivery: DeliveryCheck | null = config.deliveryCheck
        ? // no emulator cross-check: its per-device totals add up every step run on the same emulator
          deliveryCheck({ config, fleet, emulatorUrl: null, log: o.log })
        : null;
      const stats = o.serverStats?.() ?? null;
      const sinks = [quiet, ...(delivery ? [delivery] : []), ...(stats ? [stats] : []), ...(o.sinks?.({ load, index }) ?? [])];
      index++;
      const samples: LiveSample[] = [];
      try {
        const runId = o.runIdOf?.(load);
        const run = startRun({
          config,
          fleet,
          fleetSize: o.fleetSize,
          log: o.log,
          sinks,
          writeFiles: true,
          ...(runId ? { runId } : {}),
        });
        run.on('snapshot', (s) => samples.push(sampleOf(s)));
        o.onRun?.(run);
        await run.started;
        const report = await run.done;
        o.onReport?.(report, load);
        const m = report.metrics;
        const totals = report.delivery?.totals;
        // without a delivery check, QoS 1 publishes never acknowledged are the loss we can see
        const lost = totals ? totals.lost : m.target.qos === 1 ? m.traffic.failed : null;
        const ingestP99Ms = m.delivery?.ingestLatencyMs.p99 ?? null;
        const connectRatePerSec = o.vary === 'connect-rate' ? connectRampPerSec(report.devices) : null;
        const step = measureRunStep({ vary: o.vary, asked: load, metrics: m, samples, lost, ingestP99Ms, connectRatePerSec });
        const accepted = totals && totals.sent > 0 ? (step.sentPerSec * totals.stored) / totals.sent : step.sentPerSec;
        const rateLimit = rateLimitOfStep(report.delivery?.rateLimit, accepted, step.devices, m.series);
        return { ...step, rateLimit, server: stepServerOf(report.server) };
      } finally {
        await delivery?.close();
        await stats?.close();
      }
    },
  };
}
