// The shapes of a limit search (`tblab limit`): what one step measured, the driver that produces
// steps, and the verdict. Pure data: no I/O here, so the search runs the same against a scripted
// server model (unit tests) and against real runs.
import type { Tier as ServerTier } from '../../metrics/triage.js';

/** The dimension a search varies. */
export type Vary = 'rate' | 'devices' | 'connect-rate';

export const VARY_UNIT: Readonly<Record<Vary, string>> = { rate: 'msg/s', devices: 'devices', 'connect-rate': 'connects/s' };

/** Why the lab itself could not produce a step; null = it could. */
export type LabShortfall = 'schedule-lag' | 'cpu' | 'open-files' | 'ports' | 'shard-crashed' | 'nothing-sent';

/** A transport rate limit named by the lab's attribution (rate-limit.ts). */
export interface RateLimitFinding {
  /** ThingsBoard's setting, e.g. `transportTenantMsgRateLimit`. */
  name: string;
  /** Its estimated value, e.g. `≈ 2,000 msg/s`. */
  value: string;
  /** The estimate in msg/s, and what it rests on (the refill after the first refusal, or the whole step). */
  perSec?: number;
  basis?: string;
  /** Seconds after the first refusal the refill estimate averages; absent = the whole step's rate (an upper bound). */
  refillSec?: number;
}

/** What one step measured over its hold (counters are the step's own: deltas, not run totals). */
export interface StepMeasurement {
  /** The load asked, in the varied unit. */
  asked: number;
  /** The load reached, in the varied unit (msg/s sent, devices connected, connects/s completed). */
  reached: number;
  /** Publishes per second sent over the hold, whatever the varied unit. */
  sentPerSec: number;
  /** Seconds actually held. */
  holdSec: number;
  /** Devices connected at the end of the hold. */
  devices: number;
  sent: number;
  /** PUBACKs (QoS 1); null at QoS 0. */
  acked: number | null;
  /** Publishes of the step neither acknowledged nor stored once in-flight messages drained; null = unknown. */
  lost: number | null;
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  /** Send → stored latency p99 (delivery sample); null when not measured. */
  ingestP99Ms: number | null;
  /** TCP open → CONNACK p99 of the step's connects; absent in reports made before it was measured. */
  connectP99Ms?: number | null;
  /**
   * QoS 1 in-flight (sent, not yet acknowledged) at the start and end of the hold (medians of its
   * first and last third of seconds); null at QoS 0.
   */
  inFlightStart: number | null;
  inFlightEnd: number | null;
  /** Disconnects of any cause during the hold. */
  disconnects: number;
  connectAttempts: number;
  connectFailures: number;
  /** Transport rate limit the rate-limit attribution named (ThingsBoard's setting and its value). */
  rateLimit: RateLimitFinding | null;
  generator: {
    verdict: 'ok' | 'lagging' | 'overloaded';
    scheduleLagP99Ms: number | null;
    /** Set when the lab could not produce the step; the search then stops with the lab's limit. */
    shortfall: LabShortfall | null;
    note?: string;
  };
  /** ThingsBoard's own statistics over the step (server-triage.ts); absent when SERVER_STATS=0 or not read. */
  server?: StepServer | null;
  /** Optional one-second points of the hold: lets the search tell one stall from saturation. */
  seconds?: Array<{ ackP99Ms: number | null; inFlight: number | null; disconnects: number }>;
}

/** The triage verdict of one step from ThingsBoard's statistics (src/metrics/triage.ts, docs/server-stats.md). */
export interface StepServer {
  /** `transport`, `rule-engine`, `storage`, `rate-limit`, `host`, `none` or `unknown`. */
  tier: ServerTier;
  /** One clause per series the verdict rests on. */
  evidence: string[];
  /** Signals that could not be read, and why. */
  notVisible: string[];
}

/** The triage verdict of the step that broke (`limit.server`). */
export interface LimitServer extends StepServer {
  /** `steps[].index` of that step, and its load in the varied unit. */
  step: number;
  asked: number;
}

/** Produces steps: a scripted model in unit tests, real runs in `tblab limit`. */
export interface LimitDriver {
  /** Holds `load` (varied unit) for `holdSec` seconds, then drains in-flight messages and measures. */
  runStep(load: number, holdSec: number): Promise<StepMeasurement>;
  /** Lets the server settle between steps (default: nothing). */
  settle?(seconds: number): Promise<void>;
}

export interface LimitOptions {
  vary: Vary;
  from: number;
  to: number;
  /** Growth factor of the climbing steps (default 2). */
  factor?: number;
  /** Bisection stops when (first bad − last good) ÷ last good ≤ this (default 0.05). */
  resolution?: number;
  /** Seconds each step is held; default defaultStepHold(intervalSecAt(load)). */
  stepHoldSec?: number;
  /** The publish interval at a load, s (for the default hold); default 1. */
  intervalSecAt?: (load: number) => number;
  /** Seconds between steps for the server to settle (default 5). */
  settleSec?: number;
  /** Objectives in the threshold grammar over STEP_METRICS (default DEFAULT_SLO). */
  slo?: readonly string[];
  /** Called with every step as soon as it is judged (live view). */
  onStep?: (step: LimitStep) => void;
}

export type ObjectiveVerdict = 'pass' | 'fail' | 'no-data';

export interface ObjectiveResult {
  /** The metric name, e.g. `ack_p99`. */
  name: string;
  expression: string;
  value: number | null;
  limit: number;
  verdict: ObjectiveVerdict;
  /** e.g. `PUBACK p99 2.4 s > 1 s`. */
  text: string;
}

export type Tier = 'server-saturation' | 'rate-limit' | 'connections' | 'storage-lag' | 'generator' | 'unknown';

export interface LimitStep {
  index: number;
  phase: 'climb' | 'bisect';
  asked: number;
  reached: number;
  sentPerSec: number;
  holdSec: number;
  passed: boolean;
  /** A failed attempt that looked transient and was run again; it does not count. */
  retried: boolean;
  objectives: ObjectiveResult[];
  tier: Tier | null;
  measurement: StepMeasurement;
}

export type LimitOutcome = 'found' | 'above-range' | 'below-range' | 'lab-limit';

export interface LimitVerdict {
  vary: Vary;
  unit: string;
  outcome: LimitOutcome;
  /** The highest passing step's load, in the varied unit. */
  sustained: number | null;
  /** Publishes per second the highest passing step reached. */
  sustainedPerSec: number | null;
  /** The lowest failing (counted) step's load, in the varied unit. */
  brokeAt: number | null;
  /** The first objective (SLO order) that failed at `brokeAt`. */
  firstBroken: string | null;
  tier: Tier | null;
  rateLimit: RateLimitFinding | null;
  /** ThingsBoard's own statistics at the step that broke (its triage verdict); null when not read. */
  server?: LimitServer | null;
  /** The lowest step where a latency objective used half its budget (or tripled, using a fifth of it). */
  firstSignAt: number | null;
  resolution: number;
  slo: string[];
  steps: LimitStep[];
  sentence: string;
  /** What to change when the limit found is the lab's. */
  remedy: string | null;
  /** 0 found · 8 above the range · 9 below the range (first step failed) · 6 the lab's limit. */
  exitCode: number;
}
