// The threshold flags shared by `tblab run` and `tblab suite`, and their mapping to the options
// of src/lab/thresholds.ts (parsing happens there, before anything connects).
import { Option, type Command } from 'commander';
import { LabError } from '../../common/errors.js';
import type { ThresholdRunOptions } from '../../lab/thresholds.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** Adds --threshold (repeatable), --abort-on-fail and --abort-grace. */
export function withThresholdOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--threshold <expr>',
        'pass/fail rule, e.g. ack_p99<200ms (repeatable; exit 5 when one fails; grammar: docs/thresholds.md)',
      )
        .argParser(collect)
        .default([]),
    )
    .option('--abort-on-fail', 'stop the run as soon as a threshold fails that cannot recover')
    .option('--abort-grace <sec>', 'no early abort during the first <sec> seconds (default 30)');
}

/** The threshold options of one or more parsed commands (later ones add expressions and win on the rest). */
export function thresholdOptions(log: (line: string) => void, ...opts: Array<Record<string, unknown>>): ThresholdRunOptions {
  const expressions = opts.flatMap((o) => (o.threshold as string[] | undefined) ?? []);
  const graceText = opts
    .map((o) => o.abortGrace)
    .filter((v) => v !== undefined)
    .pop();
  const abortGraceSec = graceText === undefined ? 30 : Number(graceText);
  if (!(abortGraceSec >= 0))
    throw new LabError('USAGE', { message: `--abort-grace expects seconds >= 0, got ${JSON.stringify(graceText)}` });
  return { expressions, abortOnFail: opts.some((o) => Boolean(o.abortOnFail)), abortGraceSec, log };
}
