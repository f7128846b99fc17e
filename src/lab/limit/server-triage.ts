// ThingsBoard's own statistics in a limit search (issue 19 in `tblab limit`): each step's run has the
// server-stats sink (src/lab/server-stats-run-sink.ts), whose triage verdict (src/metrics/triage.ts)
// becomes the step's `server`; the verdict of the search carries the one of the step that broke.
import type { ServerSection } from '../../report/schema.js';
import { TIER_WORDS } from '../../report/server-summary.js';
import type { LimitServer, LimitStep, LimitVerdict, StepServer } from './types.js';

/** The embedded emulator's statistics window in a search, s: a step holds a few seconds, so windows are short. */
export const LIMIT_STATS_WINDOW_SEC = 2;

/** The step's `server` from its run report's `server` section (null when the sink did not run). */
export function stepServerOf(section: ServerSection | null | undefined): StepServer | null {
  if (!section?.verdict) return null;
  return { tier: section.verdict.tier, evidence: [...section.verdict.evidence], notVisible: [...(section.notVisible ?? [])] };
}

/** `limit.server`: the triage verdict of the step that broke, or null. */
export function limitServerOf(broke: LimitStep | null): LimitServer | null {
  const s = broke?.measurement.server;
  return broke && s ? { step: broke.index, asked: broke.asked, ...s } : null;
}

/** `transport (the transport fell behind first)`. */
export function serverTierText(s: Pick<StepServer, 'tier'>): string {
  return `${s.tier} (${TIER_WORDS[s.tier] ?? s.tier})`;
}

/** The lines `tblab limit` and `tblab report` print under the verdict: the tier, each clause of evidence, what was not visible. */
export function limitServerLines(v: Pick<LimitVerdict, 'server' | 'unit'>): string[] {
  const s = v.server;
  if (!s) return [];
  const at = `${Math.round(s.asked).toLocaleString('en-US')} ${v.unit} (step ${s.step + 1})`;
  return [
    `ThingsBoard's own statistics at ${at}: ${serverTierText(s)}`,
    ...s.evidence.map((e) => `  ${e}`),
    ...s.notVisible.map((l) => `  not visible: ${l}`),
  ];
}
