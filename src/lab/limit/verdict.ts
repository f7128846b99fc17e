// The verdict of a limit search from its judged steps: the highest sustained load with its
// evidence, where it broke and what broke first, the tier, and one sentence a person can act on.
import { ExitCode } from '../../common/errors.js';
import { showsStrain } from './slo.js';
import { labRemedy } from './tier.js';
import { limitServerOf, serverTierText } from './server-triage.js';
import { bestRateLimit } from './rate-limit.js';
import { VARY_UNIT, type LimitOutcome, type LimitStep, type LimitVerdict, type Vary } from './types.js';

/** Exit codes of `tblab limit` (docs/limit.md): 0 a limit inside the range was found. */
export const LIMIT_EXIT: Readonly<Record<LimitOutcome, number>> = {
  found: ExitCode.OK,
  'lab-limit': ExitCode.PREFLIGHT_FAILED,
  'above-range': ExitCode.LIMIT_ABOVE_RANGE,
  'below-range': ExitCode.LIMIT_BELOW_RANGE,
};

const TIER_TEXT: Record<string, string> = {
  'server-saturation': 'server saturation (acknowledgements slowed, in-flight messages piled up)',
  'rate-limit': 'rate limit',
  connections: 'connections (refused or dropped)',
  'storage-lag': 'storage lag (PUBACKs fast, storing slow)',
  generator: "the lab's generator",
  unknown: 'no single tier identified',
};

const num = (n: number) => Math.round(n).toLocaleString('en-US');

/** `4,200 msg/s from 4,200 devices`, `4,200 devices at 420 msg/s`, `300 connects/s`. */
type LoadOf = Pick<LimitStep, 'asked' | 'reached' | 'sentPerSec'> & { measurement: { devices: number } };

export function loadText(vary: Vary, s: LoadOf): string {
  const unit = VARY_UNIT[vary];
  // an honest figure: say so when the step reached noticeably less than it asked
  const short = s.reached < s.asked * 0.95 ? ` (${num(s.reached)} reached)` : '';
  if (vary === 'rate') return `${num(s.asked)} ${unit}${short} from ${num(s.measurement.devices)} devices`;
  if (vary === 'devices') return `${num(s.asked)} ${unit}${short} at ${num(s.sentPerSec)} msg/s`;
  return `${num(s.asked)} ${unit}${short} (${num(s.measurement.devices)} devices)`;
}

const EVIDENCE = ['ack_p99', 'ingest_p99', 'lost'];

function evidence(step: LimitStep): string {
  const parts = step.objectives.filter((o) => o.verdict === 'pass' && EVIDENCE.includes(o.name)).map((o) => o.text);
  return parts.length ? `: ${parts.join(', ')}` : '';
}

function failures(step: LimitStep): string {
  return step.objectives
    .filter((o) => o.verdict === 'fail')
    .map((o) => o.text)
    .join(', ');
}

export function buildVerdict(vary: Vary, resolution: number, slo: readonly string[], steps: LimitStep[], to: number): LimitVerdict {
  const counted = steps.filter((s) => !s.retried);
  const good = counted.filter((s) => s.passed).sort((a, b) => b.asked - a.asked)[0] ?? null;
  const labStep = counted.find((s) => s.tier === 'generator') ?? null;
  const bad = counted.filter((s) => !s.passed && s.tier !== 'generator').sort((a, b) => a.asked - b.asked)[0] ?? null;
  const unit = VARY_UNIT[vary];
  const byLoad = [...counted].sort((a, b) => a.asked - b.asked);
  const baseline = (name: string) => byLoad[0]?.objectives.find((o) => o.name === name)?.value ?? null;
  const sign = byLoad.slice(1).find((s) => s.objectives.some((o) => showsStrain(o, baseline(o.name)))) ?? null;

  let outcome: LimitOutcome;
  if (labStep) outcome = 'lab-limit';
  else if (!bad) outcome = 'above-range';
  else if (!good) outcome = 'below-range';
  else outcome = 'found';

  const broke = outcome === 'lab-limit' ? labStep : bad;
  const rateLimit = bestRateLimit(broke, counted);
  const firstBroken = broke?.objectives.find((o) => o.verdict === 'fail')?.name ?? null;
  const held = good ? `sustained ${loadText(vary, good)}${evidence(good)}` : null;
  let sentence: string;
  let remedy: string | null = null;
  if (outcome === 'lab-limit') {
    const m = labStep!.measurement;
    remedy = labRemedy(m);
    const lag = m.generator.scheduleLagP99Ms !== null ? `, schedule lag p99 ${num(m.generator.scheduleLagP99Ms)} ms` : '';
    const why = m.generator.note ?? `${m.generator.shortfall ?? 'unhealthy'}${lag}`;
    sentence =
      `the lab could not produce ${num(labStep!.asked)} ${unit} (${why}): this is the lab's limit, not the server's` +
      `${held ? `; below it the server ${held}` : ''}. Remedy: ${remedy}`;
  } else if (outcome === 'above-range') {
    sentence = `${held ?? 'no step ran'}; every step up to ${num(to)} ${unit} passed: the limit is above --to`;
  } else {
    const tierText =
      broke!.tier === 'rate-limit' && rateLimit ? `rate limit ${rateLimit.name} ${rateLimit.value}` : TIER_TEXT[broke!.tier ?? 'unknown'];
    const failedAt = `failed at ${num(broke!.asked)} ${unit}: ${failures(broke!)} — ${tierText}`;
    sentence = outcome === 'below-range' ? `${failedAt}; the first step already failed: the limit is below --from` : `${held}; ${failedAt}`;
    if (sign && sign.asked < broke!.asked) sentence += `; first sign at ${num(sign.asked)} ${unit}`;
    const server = broke!.measurement.server;
    if (server) sentence += `; ThingsBoard's own statistics there: ${serverTierText(server)}`;
  }
  return {
    vary,
    unit,
    outcome,
    sustained: good?.asked ?? null,
    sustainedPerSec: good ? Math.round(good.sentPerSec * 10) / 10 : null,
    brokeAt: broke?.asked ?? null,
    firstBroken,
    tier: broke?.tier ?? null,
    rateLimit,
    server: limitServerOf(broke),
    firstSignAt: sign?.asked ?? null,
    resolution,
    slo: [...slo],
    steps,
    sentence,
    remedy,
    exitCode: LIMIT_EXIT[outcome],
  };
}
