// The step ladder of a limit search split over instances (`tblab limit --instance i/N`). Bisection
// needs the verdict of every instance on the previous step, and instances have no coordinator, so a
// split search is a fixed ladder instead: the geometric climb of plan.ts from --from to --to, each
// step in a time window fixed by the shared start (LIMIT_START_AT), the same on every instance.
// Each instance holds its share of the step, judges its share, and stops after its first failed
// step; `tblab report merge` joins the shares (merge-limit.ts). Pure: the clock and the waits are given.
import { LabError } from '../../common/errors.js';
import { StepPlanner } from './plan.js';
import { judgeStep, parseSlo } from './slo.js';
import { judgedStep } from './judged-step.js';
import { buildVerdict } from './verdict.js';
import type { LimitDriver, LimitStep, LimitVerdict, Vary } from './types.js';

/** An instance that reaches a step's start later than this skips the step (and joins the next one). */
export const LATE_TOLERANCE_MS = 2000;

/** The loads of the ladder: the climb of a search in which every step passes (`from` … `to`). */
export function ladderLoads(from: number, to: number, factor: number): number[] {
  const planner = new StepPlanner({ from, to, factor, resolution: 0.5 });
  const loads: number[] = [];
  for (let load = planner.next(); load !== null; load = planner.next()) {
    loads.push(load);
    planner.record(load, true);
  }
  return loads;
}

export interface LadderStep {
  /** 0-based position on the ladder. */
  index: number;
  /** The whole step's load (all instances together), in the varied unit. */
  load: number;
  /** When the step starts, ms since the epoch: the same on every instance. */
  startAtMs: number;
  holdSec: number;
  /** Seconds from this step's start to the next one's: ramp + hold + tail + settle. */
  slotSec: number;
}

export interface LadderTiming {
  startAtMs: number;
  /** Seconds each step holds its load. */
  holdSecAt(load: number): number;
  /** Seconds to connect the step's fleet before the hold starts (the slowest instance's). */
  rampSecAt(load: number): number;
  /** Seconds after the hold for in-flight messages to drain and the step to be measured. */
  tailSec: number;
  /** Seconds the server gets between steps. */
  settleSec: number;
}

/** The ladder's steps with their windows. Every instance computes the same from the same flags. */
export function planLadder(loads: readonly number[], t: LadderTiming): LadderStep[] {
  let at = t.startAtMs;
  return loads.map((load, index) => {
    const holdSec = t.holdSecAt(load);
    const slotSec = t.rampSecAt(load) + holdSec + t.tailSec + t.settleSec;
    const step = { index, load, startAtMs: at, holdSec, slotSec };
    at += slotSec * 1000;
    return step;
  });
}

/** What became of a ladder step on this instance. */
export interface LadderOutcome {
  state: 'judged' | 'skipped' | 'not-run';
  /** How late this instance started the step, ms (judged steps). */
  lateMs: number | null;
  /** Its position in the verdict's `steps` (judged steps). */
  stepIndex: number | null;
  /** Seconds left until the next step's start once this one was measured (judged steps): below --settle, raise --settle. */
  spareSec: number | null;
}

export interface LadderRunOptions {
  vary: Vary;
  steps: readonly LadderStep[];
  slo: readonly string[];
  /** Growth factor of the ladder: the verdict's resolution is factor − 1. */
  factor: number;
  /** This instance's share of --to (the verdict's "every step up to …"). */
  shareOfTo: number;
  now(): number;
  /** Waits up to `ms`; may return early (the loop checks the clock again). */
  wait(ms: number): Promise<void>;
  /** True once the search was asked to stop. */
  aborted(): boolean;
  lateToleranceMs?: number;
  onStep?(step: LimitStep): void;
  onSkip?(step: LadderStep, lateMs: number): void;
}

/**
 * Runs this instance's share of the ladder on the shared schedule. `driver.runStep` gets the whole
 * step's load and holds this instance's share. No retry: a second attempt would leave the schedule.
 */
export async function runLadder(driver: LimitDriver, o: LadderRunOptions): Promise<{ verdict: LimitVerdict; outcomes: LadderOutcome[] }> {
  const slo = parseSlo(o.slo);
  const tolerance = o.lateToleranceMs ?? LATE_TOLERANCE_MS;
  const steps: LimitStep[] = [];
  const outcomes: LadderOutcome[] = o.steps.map(() => ({ state: 'not-run', lateMs: null, stepIndex: null, spareSec: null }));
  const verdict = () => buildVerdict(o.vary, Math.min(0.99, o.factor - 1), o.slo, steps, o.shareOfTo);
  for (const ladderStep of o.steps) {
    for (let left = ladderStep.startAtMs - o.now(); left > 0 && !o.aborted(); left = ladderStep.startAtMs - o.now()) {
      await o.wait(Math.min(left, 1000));
    }
    if (o.aborted()) break;
    const lateMs = Math.max(0, o.now() - ladderStep.startAtMs);
    if (lateMs > tolerance) {
      outcomes[ladderStep.index] = { state: 'skipped', lateMs, stepIndex: null, spareSec: null };
      o.onSkip?.(ladderStep, lateMs);
      continue;
    }
    let m;
    try {
      m = await driver.runStep(ladderStep.load, ladderStep.holdSec);
    } catch (e) {
      if (e instanceof LabError && e.code === 'ABORTED') break;
      throw e;
    }
    const step = judgedStep(steps.length, 'climb', m, judgeStep(slo, m));
    const spareSec = Math.round((ladderStep.startAtMs + ladderStep.slotSec * 1000 - o.now()) / 100) / 10;
    outcomes[ladderStep.index] = { state: 'judged', lateMs, stepIndex: steps.length, spareSec };
    steps.push(step);
    o.onStep?.(step);
    // this instance's share failed: the fleet's step fails whatever the others saw, and a higher step
    // would only load the server without telling more
    if (!step.passed) break;
  }
  return { verdict: verdict(), outcomes };
}
