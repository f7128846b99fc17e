// `tblab limit --instance i/N`: this instance's part of a search split over N lab instances. Every
// instance derives the same ladder (ladder.ts) and the same step windows from the same flags,
// RUN_ID and LIMIT_START_AT, and holds its share of each step: its slice of the fleet at the step's
// publish interval (--vary rate), its slice of the step's devices (--vary devices), or its share of
// the connect rate (--vary connect-rate). Each step is one run named <RUN_ID>-step<k>-i<i>of<N>, so
// `tblab report merge` can also merge one step's runs with exact latency histograms.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/index.js';
import { LabError } from '../../common/errors.js';
import { instanceLabel, sliceBounds, type FleetDevice, type InstanceId } from '../../common/fleet.js';
import { resolveInstance } from '../instance.js';
import { defaultStepHold } from './plan.js';
import { DEFAULT_SETTLE_SEC } from './search.js';
import { ladderLoads, planLadder, runLadder, type LadderOutcome, type LadderStep } from './ladder.js';
import { runDriver, type RunDriverOptions } from './run-driver.js';
import type { LimitDriver, LimitVerdict, Vary } from './types.js';

/** Seconds a step run needs beyond ramp, hold, drain and delivery check: shard start-up and the report. */
export const STEP_OVERHEAD_SEC = 2;
/** Seconds the delivery check's read-back may take after its settle wait. */
export const READBACK_SEC = 3;

/** The ladder as one instance ran it: what its limit report carries and `tblab report merge` joins. */
export interface LimitSchedule {
  /** RUN_ID, shared by the instances. */
  runId: string;
  /** `i/N`. */
  instance: string;
  startAt: string;
  /** Devices of the whole fleet (DEVICE_COUNT) and of this instance's slice. */
  fleetDevices: number;
  sliceDevices: number;
  from: number;
  to: number;
  factor: number;
  tailSec: number;
  settleSec: number;
  steps: Array<
    Omit<LadderStep, 'startAtMs'> &
      LadderOutcome & {
        startAt: string;
        /** This instance's share of `load`. */
        share: number;
        /** The step's run report (judged steps). */
        runId: string | null;
      }
  >;
}

export interface InstanceSearchOptions {
  vary: Vary;
  from: number;
  to: number;
  factor: number;
  stepHoldSec?: number;
  settleSec?: number;
}

export interface InstanceSearch {
  limitId: string;
  label: string;
  steps: LadderStep[];
  /** A driver that holds this instance's share of each step (runStep gets the whole step's load). */
  driver(o: Pick<RunDriverOptions, 'sinks' | 'log' | 'onReport' | 'onRun'>): LimitDriver;
  run(
    driver: LimitDriver,
    o: {
      slo: readonly string[];
      now(): number;
      aborted(): boolean;
      onStep: Parameters<typeof runLadder>[1]['onStep'];
      say(l: string): void;
    },
  ): Promise<LimitVerdict>;
  /** The schedule with each step's outcome (after run). */
  schedule(): LimitSchedule;
}

const config = (message: string, hint: string) => new LabError('CONFIG_INVALID', { message, hint });
const HINT =
  'Give every instance the same RUN_ID and LIMIT_START_AT (--start-at), e.g. LIMIT_START_AT=$(( $(date +%s) + 60 )) (docs/limit.md).';

/** The flags of a split search, checked before anything starts (a wrong one would surface after provisioning). */
export function checkSplitFlags(c: ResolvedConfig, env: NodeJS.ProcessEnv, embedded: boolean): void {
  const id = resolveInstance(c, env);
  if (!id) {
    if (c.limitStartAt !== undefined) {
      throw new LabError('USAGE', {
        message: 'LIMIT_START_AT (--start-at) schedules the ladder of a split search and needs --instance i/N',
        hint: 'Add --instance i/N (docs/limit.md), or unset LIMIT_START_AT.',
      });
    }
    return;
  }
  if (embedded) {
    throw new LabError('USAGE', {
      message: '--instance cannot be combined with --embedded: every instance would search its own emulator',
      hint: 'Start one `tblab emulator` (or use a real server) and point every instance at it (docs/limit.md).',
    });
  }
  if (!c.runId) throw config(`tblab limit --instance ${id.label} needs RUN_ID, the same on every instance`, HINT);
  if (c.limitStartAt === undefined)
    throw config(`tblab limit --instance ${id.label} needs LIMIT_START_AT (--start-at), the same on every instance`, HINT);
}
const size = (total: number, i: number, n: number) => {
  const b = sliceBounds(total, i, n);
  return b.end - b.start;
};
const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 19) + 'Z';

/** Each instance's connect rate and devices at the step of `load`, as stepRun (run-driver.ts) will run them. */
function instanceStep(vary: Vary, c: ResolvedConfig, fleetDevices: number, id: InstanceId, load: number) {
  const devices = vary === 'devices' ? size(Math.round(load), id.index, id.count) : size(fleetDevices, id.index, id.count);
  const share =
    vary === 'devices'
      ? devices
      : vary === 'rate'
        ? Math.round(((load * devices) / fleetDevices) * 100) / 100
        : Math.round((load * devices) / fleetDevices);
  const connectRate = vary === 'connect-rate' ? share : c.connectRate;
  return { devices, share, rampSec: connectRate > 0 ? Math.ceil(devices / connectRate) + 1 : 1 };
}

export function instanceSearch(c: ResolvedConfig, all: FleetDevice[], o: InstanceSearchOptions, nowMs: number): InstanceSearch {
  const id = c.instance!;
  const label = instanceLabel(id);
  if (!c.runId) throw config(`tblab limit --instance ${label} needs RUN_ID, the same on every instance`, HINT);
  if (c.limitStartAt === undefined)
    throw config(`tblab limit --instance ${label} needs LIMIT_START_AT (--start-at), the same on every instance`, HINT);
  const fleetDevices = all.length;
  const loads = ladderLoads(o.from, o.to, o.factor);
  const each = (load: number) =>
    Array.from({ length: id.count }, (_, k) => instanceStep(o.vary, c, fleetDevices, { index: k + 1, count: id.count }, load));
  const smallest = each(loads[0]).reduce((a, b) => Math.min(a, b.share), Infinity);
  if (!(smallest > 0) || (o.vary !== 'rate' && smallest < 1)) {
    throw new LabError('USAGE', {
      message: `--from ${o.from} split over ${id.count} instances leaves an instance with ${smallest} ${o.vary === 'devices' ? 'devices' : 'connects/s'}`,
      hint: `Raise --from to at least ${id.count} × what one instance needs (docs/limit.md).`,
    });
  }
  const tailSec =
    Math.ceil(c.drainTimeoutMs / 1000) + (c.deliveryCheck ? Math.ceil(c.deliverySettleSec) + READBACK_SEC : 0) + STEP_OVERHEAD_SEC;
  const settleSec = o.settleSec ?? DEFAULT_SETTLE_SEC;
  const steps = planLadder(loads, {
    startAtMs: c.limitStartAt,
    holdSecAt: (load) => o.stepHoldSec ?? defaultStepHold(o.vary === 'rate' ? fleetDevices / load : c.publishIntervalSec),
    rampSecAt: (load) => Math.max(...each(load).map((s) => s.rampSec)),
    tailSec,
    settleSec,
  });
  const last = steps[steps.length - 1];
  const endsAt = last.startAtMs + last.slotSec * 1000;
  if (endsAt <= nowMs) {
    throw config(
      `LIMIT_START_AT ${new Date(c.limitStartAt).toISOString()} is past: that ladder ended at ${new Date(endsAt).toISOString()}`,
      HINT,
    );
  }
  const limitId = `limit-${c.runId}-i${id.index}of${id.count}`;
  const file = join(c.dataDir, 'runs', `${limitId}.json`);
  if (existsSync(file)) {
    throw config(`RUN_ID=${c.runId}: ${file} exists already`, 'Give every search a new RUN_ID (and LIMIT_START_AT).');
  }
  const mine = (load: number) => instanceStep(o.vary, c, fleetDevices, id, load);
  const stepRunId = (s: Pick<LadderStep, 'index'>) => `${c.runId}-step${s.index + 1}-i${id.index}of${id.count}`;
  const slice = sliceBounds(fleetDevices, id.index, id.count);
  let outcomes: LadderOutcome[] = steps.map(() => ({ state: 'not-run', lateMs: null, stepIndex: null, spareSec: null }));

  return {
    limitId,
    label,
    steps,
    driver(d) {
      return {
        async runStep(load, holdSec) {
          const step = steps.find((s) => s.load === load)!;
          const { share } = mine(load);
          const part = o.vary === 'devices' ? sliceBounds(Math.round(load), id.index, id.count) : slice;
          const fleet = all.slice(part.start, part.end);
          const fleetSize = o.vary === 'devices' ? Math.round(load) : fleetDevices;
          const run = runDriver({ ...d, vary: o.vary, config: c, fleet, fleetSize, runIdOf: () => stepRunId(step) });
          // devices: the step's fleet is exactly this instance's devices
          return run.runStep(o.vary === 'devices' ? fleet.length : share, holdSec);
        },
      };
    },
    async run(driver, r) {
      r.say(
        `limit: instance ${label} of RUN_ID ${c.runId}: ${steps.length}-step ladder from ${new Date(steps[0].startAtMs).toISOString()}: ` +
          steps.map((s) => `${s.load} at ${hhmmss(s.startAtMs)} (this instance ${mine(s.load).share})`).join(', '),
      );
      const result = await runLadder(driver, {
        vary: o.vary,
        steps,
        slo: r.slo,
        factor: o.factor,
        shareOfTo: mine(o.to).share,
        now: r.now,
        wait: (ms) => new Promise((res) => setTimeout(res, ms)),
        aborted: r.aborted,
        onStep: r.onStep,
        onSkip: (s, late) =>
          r.say(`limit: step ${s.index + 1} (${s.load}) skipped: this instance reached its start ${Math.round(late / 1000)} s late`),
      });
      outcomes = result.outcomes;
      return result.verdict;
    },
    schedule() {
      return {
        runId: c.runId!,
        instance: label,
        startAt: new Date(steps[0].startAtMs).toISOString(),
        fleetDevices,
        sliceDevices: slice.end - slice.start,
        from: o.from,
        to: o.to,
        factor: o.factor,
        tailSec,
        settleSec,
        steps: steps.map(({ startAtMs, ...s }, k) => ({
          ...s,
          ...outcomes[k],
          startAt: new Date(startAtMs).toISOString(),
          share: mine(s.load).share,
          runId: outcomes[k].state === 'judged' ? stepRunId(s) : null,
        })),
      };
    },
  };
}
