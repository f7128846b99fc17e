// A step of a limit search as it is recorded: its measurement, the objectives judged on it, passed
// when none failed, and for a failed one the tier that gave first. The search (search.ts), the split
// ladder (ladder.ts) and `report merge` of the instances' shares (merge.ts) record steps this way.
import { classifyTier } from './tier.js';
import type { LimitStep, ObjectiveResult, StepMeasurement } from './types.js';

export function judgedStep(
  index: number,
  phase: LimitStep['phase'],
  m: StepMeasurement,
  objectives: ObjectiveResult[],
  retried = false,
): LimitStep {
  const passed = objectives.every((x) => x.verdict !== 'fail');
  return {
    index,
    phase,
    asked: m.asked,
    reached: m.reached,
    sentPerSec: m.sentPerSec,
    holdSec: m.holdSec,
    passed,
    retried,
    objectives,
    tier: passed ? null : classifyTier(m, objectives),
    measurement: m,
  };
}
