// `tblab report merge` of the limit reports of a search split over instances (`tblab limit
// --instance i/N`, instances.ts): one search of the whole fleet. A ladder step counts when every
// instance judged its share; its load is the step's whole load, what was reached and sent is the sum
// over the instances, counts add up, latencies are the largest instance's p99 (an upper bound: the
// limit reports keep percentiles, not histograms; `report merge` of the step's runs gives exact
// ones), and the step fails when the merged figures fail an objective or any instance's share did.
import { LabError } from '../../common/errors.js';
import { parseInstance } from '../../common/fleet.js';
import { judgeStep, parseSlo } from './slo.js';
import { judgedStep } from './judged-step.js';
import { buildVerdict } from './verdict.js';
import type { LimitReport } from './report.js';
import type { LimitSchedule } from './instances.js';
import type { LimitStep, ObjectiveResult, StepMeasurement } from './types.js';

export interface LimitMergeInput {
  source: string;
  report: LimitReport;
}

/** Each ladder step of a merged search, and what every instance did there. */
export interface MergedLadder {
  runId: string;
  count: number;
  startAt: string;
  factor: number;
  steps: Array<{
    index: number;
    load: number;
    startAt: string;
    /** `judged`: every instance judged its share (the step is in the verdict); else `incomplete`. */
    state: 'judged' | 'incomplete';
    instances: Array<{
      instance: string;
      state: string;
      share: number;
      reached: number | null;
      passed: boolean | null;
      runId: string | null;
    }>;
  }>;
}

const conflict = (message: string): never => {
  throw new LabError('MERGE_CONFLICT', {
    message,
    hint: 'Merge the limit reports of one split search: same RUN_ID, flags and LIMIT_START_AT.',
  });
};

const sum = (xs: Array<number | null>): number | null => (xs.some((x) => x === null) ? null : xs.reduce<number>((a, b) => a + b!, 0));
const max = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
};
const round1 = (n: number) => Math.round(n * 10) / 10;
const GENERATOR_RANK = { ok: 0, lagging: 1, overloaded: 2 } as const;

/** A tenant-wide limit let through the sum of what each instance saw; a per-device one the same per device. */
function mergedRateLimit(ms: StepMeasurement[]): StepMeasurement['rateLimit'] {
  const named = ms.map((m) => m.rateLimit).filter((r): r is NonNullable<typeof r> => r !== null);
  if (named.length === 0) return null;
  if (named[0].name !== 'transportTenantMsgRateLimit') return named[0];
  const through = named.map((r) => Number(/≈ ([\d,.]+) msg\/s/.exec(r.value)?.[1].replace(/,/g, '') ?? NaN));
  if (through.some((n) => !Number.isFinite(n))) return named[0];
  return {
    name: named[0].name,
    value: `≈ ${through.reduce((a, b) => a + b, 0).toLocaleString('en-US', { maximumFractionDigits: 0 })} msg/s`,
  };
}

export function mergeMeasurements(asked: number, ms: StepMeasurement[]): StepMeasurement {
  const gen = ms.map((m) => m.generator).sort((a, b) => GENERATOR_RANK[b.verdict] - GENERATOR_RANK[a.verdict]);
  const short = ms.map((m) => m.generator).find((g) => g.shortfall !== null) ?? null;
  return {
    asked,
    reached: round1(ms.reduce((a, m) => a + m.reached, 0)),
    sentPerSec: round1(ms.reduce((a, m) => a + m.sentPerSec, 0)),
    holdSec: Math.min(...ms.map((m) => m.holdSec)),
    devices: ms.reduce((a, m) => a + m.devices, 0),
    sent: ms.reduce((a, m) => a + m.sent, 0),
    acked: ms.every((m) => m.acked === null) ? null : ms.reduce((a, m) => a + (m.acked ?? 0), 0),
    lost: sum(ms.map((m) => m.lost)),
    ackP50Ms: max(ms.map((m) => m.ackP50Ms)),
    ackP99Ms: max(ms.map((m) => m.ackP99Ms)),
    ingestP99Ms: max(ms.map((m) => m.ingestP99Ms)),
    connectP99Ms: max(ms.map((m) => m.connectP99Ms ?? null)),
    inFlightStart: sum(ms.map((m) => m.inFlightStart)),
    inFlightEnd: sum(ms.map((m) => m.inFlightEnd)),
    disconnects: ms.reduce((a, m) => a + m.disconnects, 0),
    connectAttempts: ms.reduce((a, m) => a + m.connectAttempts, 0),
    connectFailures: ms.reduce((a, m) => a + m.connectFailures, 0),
    rateLimit: mergedRateLimit(ms),
    generator: {
      verdict: gen[0].verdict,
      scheduleLagP99Ms: max(ms.map((m) => m.generator.scheduleLagP99Ms)),
      shortfall: short?.shortfall ?? null,
      ...(short?.note ? { note: short.note } : {}),
    },
  };
}

/** The merged figures judged again; an objective any instance's share failed fails here too. */
function mergedObjectives(
  slo: readonly string[],
  m: StepMeasurement,
  shares: Array<{ instance: string; step: LimitStep }>,
): ObjectiveResult[] {
  return judgeStep(parseSlo(slo), m).map((o) => {
    const failedBy = shares.filter((s) => s.step.objectives.some((x) => x.name === o.name && x.verdict === 'fail'));
    if (failedBy.length === 0 || o.verdict === 'fail') return o;
    const first = failedBy[0].step.objectives.find((x) => x.name === o.name)!;
    return { ...o, verdict: 'fail', text: `${first.text} (instance ${failedBy.map((f) => f.instance).join(', ')})` };
  });
}

function checkSameSearch(inputs: LimitMergeInput[]): LimitSchedule[] {
  const schedules = inputs.map(
    (i) => i.report.schedule ?? conflict(`${i.source} is not the limit report of an instance (tblab limit --instance i/N)`),
  );
  const a = schedules[0];
  const ra = inputs[0].report;
  inputs.forEach((inp, k) => {
    const s = schedules[k];
    const r = inp.report;
    const differs = (what: string, x: unknown, y: unknown) =>
      JSON.stringify(x) !== JSON.stringify(y) &&
      conflict(`${inp.source} differs from ${inputs[0].source} in ${what}: ${JSON.stringify(y)} vs ${JSON.stringify(x)}`);
    differs('RUN_ID', a.runId, s.runId);
    differs('the number of instances', parseInstance(a.instance)?.count, parseInstance(s.instance)?.count);
    differs('--vary', ra.limit.vary, r.limit.vary);
    differs(
      'the step loads and windows',
      a.steps.map((x) => [x.load, x.startAt, x.holdSec]),
      s.steps.map((x) => [x.load, x.startAt, x.holdSec]),
    );
    differs('the objectives (--slo)', ra.limit.slo, r.limit.slo);
  });
  return schedules;
}

export function mergeLimitReports(
  inputs: LimitMergeInput[],
  o: { allowPartial?: boolean } = {},
): { report: LimitReport; warnings: string[] } {
  if (inputs.length === 0) throw new LabError('RUN_NOT_FOUND', { message: 'No limit reports to merge' });
  const index = (i: LimitMergeInput) => parseInstance(i.report.schedule?.instance ?? '')?.index ?? 0;
  inputs = [...inputs].sort((a, b) => index(a) - index(b));
  const schedules = checkSameSearch(inputs);
  const warnings: string[] = [];
  const ids = schedules.map((s) => parseInstance(s.instance)!);
  const count = ids[0].count;
  const seen = new Set<number>();
  ids.forEach((id, k) => {
    if (seen.has(id.index)) conflict(`${inputs[k].source}: instance ${schedules[k].instance} is given twice`);
    seen.add(id.index);
  });
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length) {
    const text = `missing the limit report of instance ${missing.map((i) => `${i}/${count}`).join(', ')}`;
    if (!o.allowPartial)
      throw new LabError('MERGE_CONFLICT', {
        message: text,
        hint: 'Add the missing reports, or pass --partial (loads are then the sum of the instances given).',
      });
    warnings.push(`${text}: each step's load is the sum of the instances given, not the ladder's`);
  }
  const first = inputs[0].report;
  const slo = first.limit.slo;
  const steps: LimitStep[] = [];
  const ladder: MergedLadder = { runId: schedules[0].runId, count, startAt: schedules[0].startAt, factor: schedules[0].factor, steps: [] };
  for (const ls of schedules[0].steps) {
    const per = inputs.map((inp, k) => {
      const s = schedules[k].steps[ls.index];
      return { instance: schedules[k].instance, s, step: s.stepIndex === null ? null : (inp.report.limit.steps[s.stepIndex] ?? null) };
    });
    const judged = per.every((p) => p.step !== null);
    ladder.steps.push({
      index: ls.index,
      load: ls.load,
      startAt: ls.startAt,
      state: judged ? 'judged' : 'incomplete',
      instances: per.map((p) => ({
        instance: p.instance,
        state: p.s.state,
        share: p.s.share,
        reached: p.step?.reached ?? null,
        passed: p.step?.passed ?? null,
        runId: p.s.runId,
      })),
    });
    if (!judged) continue;
    const shares = per.map((p) => ({ instance: p.instance, step: p.step! }));
    const asked = missing.length ? round1(per.reduce((a, p) => a + p.s.share, 0)) : ls.load;
    const m = mergeMeasurements(
      asked,
      shares.map((s) => s.step.measurement),
    );
    const objectives = mergedObjectives(slo, m, shares);
    steps.push(judgedStep(steps.length, 'climb', m, objectives));
  }
  const incomplete = ladder.steps.filter((s) => s.state === 'incomplete' && s.instances.some((i) => i.state !== 'not-run'));
  if (incomplete.length) {
    warnings.push(
      `ladder step${incomplete.length > 1 ? 's' : ''} ${incomplete.map((s) => s.load).join(', ')} not judged by every instance: left out of the verdict`,
    );
  }
  const to = missing.length ? schedules.reduce((a, s) => a + s.steps[s.steps.length - 1].share, 0) : schedules[0].to;
  const verdict = buildVerdict(first.limit.vary, Math.min(0.99, schedules[0].factor - 1), slo, steps, to);
  const reports = inputs.map((i) => i.report);
  const report: LimitReport = {
    tool: 'tb-load-lab',
    kind: 'limit',
    schemaVersion: first.schemaVersion,
    limitId: `limit-${schedules[0].runId}-merged`,
    startedAt: reports.map((r) => r.startedAt).sort()[0],
    endedAt: reports.map((r) => r.endedAt).sort()[reports.length - 1],
    aborted: reports.some((r) => r.aborted),
    target: first.target,
    setup: {
      ...first.setup,
      devices: reports.reduce((a, r) => a + r.setup.devices, 0),
      shards: reports.reduce((a, r) => a + r.setup.shards, 0),
    },
    stepRuns: reports.flatMap((r) => r.stepRuns),
    limit: verdict,
    mergedFrom: reports.map((r) => r.limitId),
    instances: ladder,
  };
  if (new Set(reports.map((r) => r.target.mqtt)).size > 1)
    warnings.push(`the instances loaded different MQTT targets: ${[...new Set(reports.map((r) => r.target.mqtt))].join(', ')}`);
  return { report, warnings };
}
