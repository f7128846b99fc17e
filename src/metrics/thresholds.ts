// Thresholds, the evaluation: against a run's numbers at the end and, optionally, on every live
// snapshot with an early abort. The language and its grammar are in threshold-parser.ts.
import type { MetricsSnapshot } from './snapshot.js';
import { THRESHOLD_METRICS, type MetricKind, type ThresholdInput } from './threshold-metrics.js';
import type { Threshold, ThresholdOp } from './threshold-parser.js';

export { parseThreshold, parseThresholds, type Threshold, type ThresholdOp } from './threshold-parser.js';

/** One evaluated threshold, as printed and as stored in the run report's `thresholds`. */
export interface ThresholdResult {
  expression: string;
  ok: boolean;
  /** Measured value in the metric's base unit (ms, ratio, count, per second); null = no data. */
  actual: number | null;
  /** The limit after units and `devices` were applied. */
  limit: number;
  message: string;
}

/** The limit of a threshold for a run of `devices` configured devices. */
export function limitOf(t: Threshold, devices: number): number {
  return t.perDevice ? t.coefficient * devices : t.coefficient;
}

export function compare(actual: number, op: ThresholdOp, limit: number): boolean {
  switch (op) {
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
    case '==':
      return actual === limit;
    case '!=':
      return actual !== limit;
  }
}

/** Human text of a metric value: `153.2 ms`, `0.04%`, `12,000`, `1,234.5/s`. */
export function formatMetricValue(kind: MetricKind, v: number | null): string {
  if (v === null) return 'no data';
  const n = (x: number, digits: number) => x.toLocaleString('en-US', { maximumFractionDigits: digits });
  switch (kind) {
    case 'duration':
      return `${n(v, Math.abs(v) < 10 ? 2 : 1)} ms`;
    case 'ratio':
      return `${n(v * 100, 4)}%`;
    case 'rate':
      return `${n(v, 1)}/s`;
    case 'count':
      return n(v, 2);
    case 'flag':
      return String(v);
  }
}

/**
 * Evaluates thresholds. A metric with no data (no acks at QoS 0, no delivery check, no ramp-up
 * yet) fails: a CI gate must not pass on a run that measured nothing.
 */
export function evaluateThresholds(thresholds: readonly Threshold[], input: ThresholdInput): ThresholdResult[] {
  const devices = input.snapshot.connections.configured;
  return thresholds.map((t) => {
    const actual = THRESHOLD_METRICS[t.metric].read(input);
    const limit = limitOf(t, devices);
    const ok = actual !== null && Number.isFinite(actual) && compare(actual, t.op, limit);
    const limitText = `${t.op} ${formatMetricValue(t.kind, limit)}${t.perDevice ? ` (${t.coefficient}×${devices} devices)` : ''}`;
    return {
      expression: t.expression,
      ok,
      actual,
      limit,
      message: `${t.metric} = ${formatMetricValue(t.kind, actual)}, required ${limitText}`,
    };
  });
}

/** States of the load itself; later points (`stopping`, final) are the drain and disconnect. */
const LOAD_STATES: ReadonlySet<string> = new Set(['starting', 'connecting', 'running']);

/** The points of a timeline taken under load (points without a state, from older reports, count). */
export function loadPoints<P extends { state?: string }>(points: readonly P[]): P[] {
  return points.filter((p) => p.state === undefined || LOAD_STATES.has(p.state));
}

/**
 * connected_min: the fewest devices connected at once after ramp-up and before the stop. Ramp-up
 * ends at the first point where every configured device is connected, or, when that never
 * happens, where `connected` first reached its highest value. Null when there are no points.
 */
export function connectedAfterRamp(timeline: ReadonlyArray<{ connected: number; state?: string }>, configured: number): number | null {
  const points = loadPoints(timeline);
  if (points.length === 0) return null;
  let start = points.findIndex((p) => p.connected >= configured);
  if (start < 0) {
    const peak = Math.max(...points.map((p) => p.connected));
    start = points.findIndex((p) => p.connected === peak);
  }
  let min = Infinity;
  for (let i = start; i < points.length; i++) min = Math.min(min, points[i].connected);
  return min;
}

export interface MonitorOptions {
  /** Stop the run when a threshold fails while it runs. Default false. */
  abortOnFail?: boolean;
  /** No abort before this many seconds into the run (ramp-up, warm-up). Default 30 s. */
  graceSec?: number;
}

/**
 * Live evaluation for a running lab: feed it every snapshot with `evaluate(snapshot)`. It keeps the
 * state one snapshot lacks (connected_min since ramp-up) and says when the run should abort: after
 * the grace period, a failing threshold aborts unless it could still pass by the end (a count that
 * only grows but is still below a lower bound, like `sent>1000` early in a run).
 */
export class ThresholdMonitor {
  private connectedMin: number | null = null;
  private lastResults: ThresholdResult[] = [];
  private readonly abortOnFail: boolean;
  private readonly graceSec: number;

  constructor(
    readonly thresholds: readonly Threshold[],
    opts: MonitorOptions = {},
  ) {
    this.abortOnFail = opts.abortOnFail ?? false;
    this.graceSec = opts.graceSec ?? 30;
  }

  evaluate(snapshot: MetricsSnapshot): ThresholdResult[] {
    const c = snapshot.connections;
    const rampDone = this.connectedMin !== null || c.connected >= c.configured - c.paused || snapshot.elapsedSec >= this.graceSec;
    if (rampDone) this.connectedMin = Math.min(this.connectedMin ?? Infinity, c.connected);
    const d = snapshot.delivery;
    const delivery =
      d && d.stored !== undefined && d.lost !== undefined ? { sent: d.stored + d.lost, stored: d.stored, lost: d.lost } : null;
    this.lastResults = evaluateThresholds(this.thresholds, {
      snapshot,
      elapsedSec: snapshot.elapsedSec,
      connectedMin: this.connectedMin,
      connectedFinal: c.connected,
      delivery,
    });
    return this.lastResults;
  }

  /** The failures that justify stopping now (empty = keep going). Call after `evaluate`. */
  abortReasons(elapsedSec: number): ThresholdResult[] {
    if (!this.abortOnFail || elapsedSec < this.graceSec) return [];
    return this.lastResults.filter((r, i) => !r.ok && r.actual !== null && !canStillPass(this.thresholds[i]));
  }
}

/** True when the metric only moves in the direction that can still satisfy the bound. */
function canStillPass(t: Threshold): boolean {
  const m = THRESHOLD_METRICS[t.metric].monotonic;
  if (m === 'up') return t.op === '>' || t.op === '>=' || t.op === '==' || t.op === '!=';
  if (m === 'down') return t.op === '<' || t.op === '<=' || t.op === '==' || t.op === '!=';
  return false;
}
