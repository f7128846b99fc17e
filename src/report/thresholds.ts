// Thresholds against a finished run: what they read from the report (final snapshot, the
// timeline's connected_min, the delivery check), and the pass/fail table that is printed.
import { connectedAfterRamp, evaluateThresholds, loadPoints, type Threshold, type ThresholdResult } from '../metrics/thresholds.js';
import type { ThresholdInput } from '../metrics/threshold-metrics.js';
import type { RunReport } from './schema.js';
import { renderTable } from './table.js';

/**
 * Seconds of load: first publish → the stop (`metrics.traffic.loadSec`; the drain is not load
 * time). Older reports: start → the last timeline point before the stop.
 */
export function loadSeconds(r: RunReport): number {
  if ((r.metrics.traffic.loadSec ?? 0) > 0) return r.metrics.traffic.loadSec!;
  const last = loadPoints(r.timeline).at(-1);
  return last && last.t > 0 ? last.t : r.durationSec;
}

/** What thresholds read from a finished run report. */
export function thresholdInputFromReport(r: RunReport): ThresholdInput {
  const d = r.delivery?.totals ?? null;
  return {
    snapshot: r.metrics,
    elapsedSec: loadSeconds(r),
    connectedMin: connectedAfterRamp(r.timeline, r.metrics.connections.configured),
    connectedFinal: loadPoints(r.timeline).at(-1)?.connected ?? r.metrics.connections.connected,
    delivery: d ? { sent: d.sent, stored: d.stored, lost: d.lost } : null,
  };
}

/** Evaluates thresholds against a finished run report. */
export function evaluateReport(thresholds: readonly Threshold[], report: RunReport): ThresholdResult[] {
  return evaluateThresholds(thresholds, thresholdInputFromReport(report));
}

/** `Thresholds: 2 of 3 passed` and one row per expression. */
export function renderThresholds(results: readonly ThresholdResult[]): string {
  const passed = results.filter((r) => r.ok).length;
  const rows = results.map((r) => [r.ok ? 'pass' : 'FAIL', r.expression, r.message]);
  return `Thresholds: ${passed} of ${results.length} passed\n${renderTable(['', 'threshold', 'measured'], rows, { indent: 2 })}`;
}
