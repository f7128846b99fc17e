// Stages: a ramp of active devices over time (`30s:100%,2m:100%,30s:0%`), each stage moving the
// active count linearly from the previous target to its own, as in k6. Without stages every
// device is active for the whole run.
import type { Stage } from '../common/stages.js';

export { parseStages, type Stage } from '../common/stages.js';

export const stagesDurationSec = (stages: readonly Stage[]) => stages.reduce((a, s) => a + s.durationSec, 0);

/** Active devices of a fleet of `fleet` at `elapsedSec` into the run. */
export function activeAt(stages: readonly Stage[], fleet: number, elapsedSec: number): number {
  if (stages.length === 0) return fleet;
  const abs = (s: Stage) => Math.min(fleet, 'share' in s.target ? s.target.share * fleet : s.target.count);
  let from = 0;
  let t = elapsedSec;
  for (const s of stages) {
    const to = abs(s);
    if (t < s.durationSec) return Math.round(from + ((to - from) * t) / s.durationSec);
    t -= s.durationSec;
    from = to;
  }
  return Math.round(from);
}
