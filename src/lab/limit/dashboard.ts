// The live view of a limit search (DASHBOARD=1): one dashboard for the whole search. Each step's
// run feeds it its snapshots (the usual run view), and GET /api/limit serves the search itself:
// the current step, every judged step as a point of the load-vs-latency chart, the knee, the verdict.
import type { ResolvedConfig } from '../../config/index.js';
import { buildDashboard, createControlToken, exposureWarning, type Dashboard } from '../../dashboard/index.js';
import type { HeldPidFile } from '../pid-file.js';
import type { RunSink } from '../pipeline/sink.js';
import type { LimitStep, LimitVerdict, Vary } from './types.js';
import { VARY_UNIT } from './types.js';

/** One point of the chart: a judged step. */
export interface LimitPoint {
  index: number;
  phase: LimitStep['phase'];
  asked: number;
  reached: number;
  sentPerSec: number;
  passed: boolean;
  retried: boolean;
  tier: LimitStep['tier'];
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  lost: number | null;
  /** The failed objectives' texts. */
  failed: string[];
  /** The triage tier from ThingsBoard's own statistics over the step (null = not read). */
  serverTier?: string | null;
}

export interface LimitView {
  active: true;
  limitId: string;
  vary: Vary;
  unit: string;
  current: { step: number; load: number; phase: LimitStep['phase']; holdSec: number } | null;
  steps: LimitPoint[];
  /** The highest passing and lowest failing counted step so far (achieved msg/s), once both exist. */
  knee: { goodPerSec: number; badPerSec: number; goodAsked: number; badAsked: number } | null;
  done: boolean;
  sentence: string | null;
}

function pointOf(s: LimitStep): LimitPoint {
  return {
    index: s.index,
    phase: s.phase,
    asked: s.asked,
    reached: s.reached,
    sentPerSec: s.sentPerSec,
    passed: s.passed,
    retried: s.retried,
    tier: s.tier,
    ackP50Ms: s.measurement.ackP50Ms,
    ackP99Ms: s.measurement.ackP99Ms,
    lost: s.measurement.lost,
    failed: s.objectives.filter((o) => o.verdict === 'fail').map((o) => o.text),
    serverTier: s.measurement.server?.tier ?? null,
  };
}

/** The knee so far: between the highest passing and the lowest failing counted step above it. Pure. */
export function kneeOf(steps: readonly LimitPoint[]): LimitView['knee'] {
  const counted = steps.filter((s) => !s.retried);
  const good = counted.filter((s) => s.passed).sort((a, b) => b.asked - a.asked)[0];
  const bad = counted
    .filter((s) => !s.passed && s.tier !== 'generator' && (!good || s.asked > good.asked))
    .sort((a, b) => a.asked - b.asked)[0];
  return good && bad ? { goodPerSec: good.sentPerSec, badPerSec: bad.sentPerSec, goodAsked: good.asked, badAsked: bad.asked } : null;
}

export interface LimitDashboard {
  readonly url: string | null;
  /** A sink for each step's run: its snapshots go to the page. */
  stepSink(): RunSink;
  stepStarted(load: number, holdSec: number): void;
  stepJudged(step: LimitStep): void;
  done(v: LimitVerdict): void;
  close(): Promise<void>;
}

export async function limitDashboard(
  config: ResolvedConfig,
  o: { limitId: string; vary: Vary; pid: HeldPidFile; onStop: (reason: string) => void; log: (l: string) => void },
): Promise<LimitDashboard> {
  const view: LimitView = {
    active: true,
    limitId: o.limitId,
    vary: o.vary,
    unit: VARY_UNIT[o.vary],
    current: null,
    steps: [],
    knee: null,
    done: false,
    sentence: null,
  };
  const { token, path: tokenFile } = createControlToken(config.dataDir);
  const d: Dashboard = buildDashboard({
    host: config.metricsHost,
    port: config.metricsPort,
    refreshMs: config.metricsRefreshMs,
    runId: o.limitId,
    controlToken: token,
    onStop: o.onStop,
    limit: () => view,
  });
  const url = await d.listen();
  o.pid.update({ dashboardUrl: url, controlTokenFile: tokenFile });
  o.log(`dashboard: ${url}`);
  const exposed = exposureWarning(config.metricsHost);
  if (exposed) o.log(exposed);
  return {
    url,
    stepSink: () => ({ name: 'limit-dashboard', snapshot: (s) => d.publish(s as Parameters<Dashboard['publish']>[0]) }),
    stepStarted(load, holdSec) {
      const phase = view.knee || view.steps.some((s) => !s.passed && !s.retried) ? 'bisect' : 'climb';
      view.current = { step: view.steps.length + 1, load, phase, holdSec };
    },
    stepJudged(step) {
      view.steps.push(pointOf(step));
      view.knee = kneeOf(view.steps);
      view.current = null;
    },
    done(v) {
      view.done = true;
      view.current = null;
      view.sentence = v.sentence;
      d.setFinal();
    },
    close: () => d.close(),
  };
}
