// Step planning of a limit search: climb geometrically from `from` until a step fails (the last
// climbing step is `to` exactly), then bisect between the last good and the first bad step until
// their gap is within the resolution of the last good one.
import { LabError } from '../../common/errors.js';

/** Shortest step hold, s: long enough for percentiles and a backlog trend to mean something. */
export const MIN_STEP_HOLD_SEC = 20;
/** Publish intervals a step holds at least, so every device publishes several times. */
export const STEP_HOLD_INTERVALS = 3;

/** `--step-hold` default: a few publish intervals and at least MIN_STEP_HOLD_SEC. */
export function defaultStepHold(intervalSec: number): number {
  return Math.max(MIN_STEP_HOLD_SEC, Math.ceil(STEP_HOLD_INTERVALS * intervalSec));
}

export interface PlanOptions {
  from: number;
  to: number;
  factor?: number;
  resolution?: number;
}

function usage(message: string, key: string): LabError {
  return new LabError('USAGE', { message, hint: `Fix ${key} (docs/limit.md).` });
}

/** Validates the range; throws USAGE naming the flag. */
export function checkPlan(o: PlanOptions): Required<PlanOptions> {
  const { from, to, factor = 2, resolution = 0.05 } = o;
  if (!(Number.isFinite(from) && from >= 1)) throw usage(`--from must be a number ≥ 1, got ${from}`, '--from');
  if (!(Number.isFinite(to) && to > from)) throw usage(`--to must be above --from (${from}), got ${to}`, '--to');
  if (!(Number.isFinite(factor) && factor > 1.05 && factor <= 10)) {
    throw usage(`--step-factor must be from 1.05 to 10, got ${factor}`, '--step-factor');
  }
  if (!(Number.isFinite(resolution) && resolution >= 0.005 && resolution < 1)) {
    throw usage(`--resolution must be from 0.5% to 99%, got ${resolution * 100}%`, '--resolution');
  }
  return { from, to, factor, resolution };
}

export class StepPlanner {
  private readonly o: Required<PlanOptions>;
  private good: number | null = null;
  private bad: number | null = null;
  private pending: number | null;
  private done = false;

  constructor(o: PlanOptions) {
    this.o = checkPlan(o);
    this.pending = Math.round(this.o.from);
  }

  get lastGood(): number | null {
    return this.good;
  }

  get firstBad(): number | null {
    return this.bad;
  }

  /** `climb` until the first failure, then `bisect`. */
  get phase(): 'climb' | 'bisect' {
    return this.bad === null ? 'climb' : 'bisect';
  }

  /** The next load to try, or null when the search is over. */
  next(): number | null {
    return this.done ? null : this.pending;
  }

  /** Records the counted result of the step at `load` (the one next() gave). */
  record(load: number, passed: boolean): void {
    if (this.done || load !== this.pending) throw new LabError('INTERNAL', { message: `limit plan: unexpected step ${load}` });
    if (passed) this.good = load;
    else this.bad = load;
    if (this.bad === null) {
      const up = Math.min(Math.round(this.o.to), Math.max(load + 1, Math.round(load * this.o.factor)));
      this.pending = load >= this.o.to ? null : up;
    } else if (this.good === null) {
      this.pending = null; // the first step failed: the limit is below --from
    } else {
      const mid = Math.round((this.good + this.bad) / 2);
      const fine = (this.bad - this.good) / this.good <= this.o.resolution;
      this.pending = fine || mid <= this.good || mid >= this.bad ? null : mid;
    }
    if (this.pending === null) this.done = true;
  }
}
