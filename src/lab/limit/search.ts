// The limit search loop: plan a step, let the server settle, hold the step, judge it with the SLO,
// retry once a failure that looks transient, stop at the lab's own limit, and build the verdict.
import { checkPlan, defaultStepHold, StepPlanner } from './plan.js';
import { defaultSlo, judgeStep, parseSlo } from './slo.js';
import { looksTransient } from './tier.js';
import { judgedStep } from './judged-step.js';
import { buildVerdict } from './verdict.js';
import type { LimitDriver, LimitOptions, LimitStep, LimitVerdict, StepMeasurement } from './types.js';

/** Default seconds between steps. */
export const DEFAULT_SETTLE_SEC = 5;

/** The hold of the step at `load`. */
export function stepHold(o: Pick<LimitOptions, 'stepHoldSec' | 'intervalSecAt'>, load: number): number {
  return o.stepHoldSec ?? defaultStepHold(o.intervalSecAt ? o.intervalSecAt(load) : 1);
}

export async function runLimitSearch(driver: LimitDriver, o: LimitOptions): Promise<LimitVerdict> {
  const plan = checkPlan(o);
  const sloText = o.slo ?? defaultSlo(o.vary);
  const slo = parseSlo(sloText);
  const planner = new StepPlanner(plan);
  const settleSec = o.settleSec ?? DEFAULT_SETTLE_SEC;
  const steps: LimitStep[] = [];

  const judge = (m: StepMeasurement, phase: LimitStep['phase'], retried: boolean): LimitStep =>
    judgedStep(steps.length, phase, m, judgeStep(slo, m), retried);
  const push = (s: LimitStep) => {
    steps.push(s);
    o.onStep?.(s);
  };

  for (let load = planner.next(); load !== null; load = planner.next()) {
    const phase = planner.phase;
    const hold = stepHold(o, load);
    if (steps.length > 0 && driver.settle) await driver.settle(settleSec);
    let step = judge(await driver.runStep(load, hold), phase, false);
    if (!step.passed && step.tier !== 'generator' && looksTransient(step.measurement, step.objectives)) {
      push({ ...step, retried: true });
      if (driver.settle) await driver.settle(settleSec);
      step = judge(await driver.runStep(load, hold), phase, false);
    }
    push(step);
    // a step the lab could not produce says nothing about the server: stop here
    if (step.tier === 'generator') break;
    planner.record(load, step.passed);
  }
  return buildVerdict(o.vary, plan.resolution, sloText, steps, plan.to);
}
