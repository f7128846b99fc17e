// Thresholds of a run, a sink (wired once, by src/lab/run.ts for `run` and `suite`): live
// evaluation with an optional early abort, the final evaluation (the report's `thresholds`, judged
// from the report with the delivery check in it), and the resulting exit code.
import { parseThresholds, ThresholdMonitor, type ThresholdResult } from '../metrics/thresholds.js';
import { evaluateReport, renderThresholds } from '../report/thresholds.js';
import type { RunSink, RunView } from './pipeline/sink.js';
import { ExitCode } from '../common/errors.js';

export interface ThresholdRunOptions {
  /** --threshold expressions; parsed (and rejected) here, before anything connects. */
  expressions: readonly string[];
  /** Stop the run early when a threshold fails that cannot recover. */
  abortOnFail: boolean;
  /** No early abort during the first seconds (ramp-up). */
  abortGraceSec: number;
  log: (line: string) => void;
}

export interface ThresholdRun extends RunSink {
  /** The final results (null before the report or without thresholds). */
  readonly results: ThresholdResult[] | null;
  /** The pass/FAIL table of the final results ('' without thresholds). */
  render(): string;
  /** THRESHOLDS_FAILED when a threshold failed (also when it aborted the run), else the run's own code. */
  exitCode(runExitCode: number): number;
}

export function prepareThresholds(o: ThresholdRunOptions): ThresholdRun {
  const thresholds = parseThresholds(o.expressions);
  let results: ThresholdResult[] | null = null;
  let abortedByThreshold = false;
  let run: RunView | null = null;
  const monitor =
    thresholds.length && o.abortOnFail ? new ThresholdMonitor(thresholds, { abortOnFail: true, graceSec: o.abortGraceSec }) : null;
  return {
    name: 'thresholds',
    start(r) {
      run = r;
    },
    snapshot(s) {
      if (!monitor || !run || abortedByThreshold || (s.state !== 'running' && s.state !== 'connecting')) return;
      monitor.evaluate(s);
      const failed = monitor.abortReasons(s.elapsedSec);
      if (!failed.length) return;
      abortedByThreshold = true;
      o.log(`aborting: threshold failed — ${failed.map((r) => r.message).join('; ')}`);
      run.stop(`threshold failed: ${failed.map((r) => r.expression).join(', ')}`);
    },
    judge(report) {
      if (!thresholds.length) return {};
      results = evaluateReport(thresholds, report);
      return { thresholds: results };
    },
    get results() {
      return results;
    },
    render() {
      return results ? renderThresholds(results) : '';
    },
    exitCode(runExitCode) {
      const failed = results?.some((r) => !r.ok) ?? false;
      if (abortedByThreshold || (failed && runExitCode === ExitCode.OK)) return ExitCode.THRESHOLDS_FAILED;
      return runExitCode;
    },
  };
}
