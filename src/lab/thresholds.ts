// Thresholds wired into a run (`tblab suite`, and any caller of runLab): live evaluation with an
// optional early abort, the final evaluation written into the report, and the resulting exit code.
import { parseThresholds, ThresholdMonitor, type ThresholdResult } from '../metrics/thresholds.js';
import { evaluateReport, renderThresholds } from '../report/thresholds.js';
import type { RunReport } from '../report/schema.js';
import type { RunHandle } from '../engine/supervisor.js';
import { ExitCode } from '../shared/errors.js';

export interface ThresholdRunOptions {
  /** --threshold expressions; parsed (and rejected) here, before anything connects. */
  expressions: readonly string[];
  /** Stop the run early when a threshold fails that cannot recover. */
  abortOnFail: boolean;
  /** No early abort during the first seconds (ramp-up). */
  abortGraceSec: number;
  log: (line: string) => void;
}

export interface ThresholdRun {
  /** Pass as runLab's onStart: watches snapshots when --abort-on-fail is on. */
  onStart(run: RunHandle): void;
  /** Pass as runLab's beforeFinalReport: stores the results in the report. */
  beforeFinalReport(report: RunReport): Promise<void>;
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
  return {
    onStart(run) {
      if (!thresholds.length || !o.abortOnFail) return;
      const monitor = new ThresholdMonitor(thresholds, { abortOnFail: true, graceSec: o.abortGraceSec });
      const watch = (s: Parameters<ThresholdMonitor['evaluate']>[0]) => {
        if (abortedByThreshold || (s.state !== 'running' && s.state !== 'connecting')) return;
        monitor.evaluate(s);
        const failed = monitor.abortReasons(s.elapsedSec);
        if (!failed.length) return;
        abortedByThreshold = true;
        run.off('snapshot', watch);
        o.log(`aborting: threshold failed — ${failed.map((r) => r.message).join('; ')}`);
        run.stop(`threshold failed: ${failed.map((r) => r.expression).join(', ')}`);
      };
      run.on('snapshot', watch);
    },
    async beforeFinalReport(report) {
      if (!thresholds.length) return;
      results = evaluateReport(thresholds, report);
      report.thresholds = results;
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
