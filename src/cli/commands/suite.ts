// `tblab suite [options] [-- run flags]`: provision → activate → run → deactivate → summary.
// It takes the run's flags directly (withRunFlags), as the Python lab's suite did, and after `--`,
// where they are parsed by `tblab run`'s own definition; after `--` wins when a flag is in both.
import { Command, CommanderError, Option } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';
import { LabError } from '../../common/errors.js';
import { registerRun, withRunFlags, FLAG_KEYS } from './run.js';
import { withThresholdOptions, thresholdOptions } from './threshold-options.js';
import { parseLimitSpec } from './limit.js';
import { ALIAS_HELP, applyOriginalAliases, originalFlagHint } from '../original-flags.js';

/** Parses `args` as `tblab run` flags; returns the options run's action would have received. */
async function parseRunFlags(ctx: LabContext, args: string[]): Promise<Record<string, unknown>> {
  const program = new Command('tblab').exitOverride();
  program.configureOutput({ writeOut: (s) => ctx.stderr.write(s), writeErr: () => {} }); // errors are rethrown as USAGE below
  registerRun(program, ctx, () => {});
  const run = program.commands.find((c) => c.name() === 'run')!;
  let captured: Record<string, unknown> = {};
  run.action((opts: Record<string, unknown>) => {
    captured = opts;
  });
  try {
    await program.parseAsync(['run', ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      const message = `flags after -- are passed to \`tblab run\`: ${e.message.replace(/^error: /, '')}`;
      throw new LabError('USAGE', { message, hint: originalFlagHint(e.message) ?? 'Run `tblab run --help` for the flags it accepts.' });
    }
    throw e;
  }
  for (const own of ['embedded', 'json']) {
    if (captured[own]) throw new LabError('USAGE', { message: `--${own} belongs before --: \`tblab suite --${own} -- …\`` });
  }
  return captured;
}

/** The suite's own options with the run flags given after `--` on top (thresholds and --set add up). */
function mergeRunFlags(own: Record<string, unknown>, afterDashes: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...own };
  for (const [k, v] of Object.entries(afterDashes)) if (v !== undefined && k !== 'threshold' && k !== 'set') merged[k] = v;
  merged.set = [...((own.set as string[]) ?? []), ...((afterDashes.set as string[]) ?? [])];
  if (merged.devices !== undefined && merged.deviceCount !== undefined) {
    // one given before and one after `--`: the later spelling wins
    if (afterDashes.deviceCount !== undefined) delete merged.devices;
    else delete merged.deviceCount;
  }
  return merged;
}

export function registerSuite(program: Command, ctx: LabContext, setExit: (code: number) => void): void {
  withThresholdOptions(
    withConfigOptions(
      withRunFlags(
        program
          .command('suite')
          .description('provision if needed → activate → run → deactivate (--deactivate-after) → summary; takes the run flags')
          .argument('[runFlags...]', 'after --: more flags for `tblab run`, e.g. -- --duration 300 --interval 5')
          .addOption(
            new Option('--provision <when>', 'auto: when tokens.json is missing or smaller than DEVICE_COUNT; always; never')
              .choices(['auto', 'always', 'never'])
              .default('auto'),
          )
          .option('--deactivate-after', 'pause the whole fleet at the end, also when the run fails or is interrupted')
          .option('--embedded', 'run everything against the embedded emulator (a child process; files in <DATA_DIR>/embedded)')
          .option('--limit <vary:from-to>', 'a limit search instead of the run, e.g. rate:500-20000 (defaults of `tblab limit`)')
          .option('--json', 'print the summary as JSON on stdout (instead of the text summary)')
          .addOption(new Option('--skip-provision', 'same as --provision never').hideHelp())
          .addOption(new Option('--skip-activate', 'do not resume paused devices before the run').hideHelp()),
      ),
    ),
  )
    .addHelpText('after', `${ALIAS_HELP}\nThe suite also takes the Python lab's --skip-provision and --skip-activate.`)
    .action(async (runFlags: string[], opts: Record<string, unknown>) => {
      const runOpts = await parseRunFlags(ctx, runFlags);
      const thresholds = thresholdOptions((l) => ctx.stderr.write(l + '\n'), opts, runOpts);
      const { config } = resolveConfig(ctx, applyOriginalAliases(mergeRunFlags(opts, runOpts)), FLAG_KEYS);
      const limit = opts.limit === undefined ? undefined : parseLimitSpec(opts.limit as string);
      if (limit && thresholds.expressions.length)
        throw new LabError('USAGE', { message: '--threshold does not apply to --limit (use `tblab limit --slo`)' });
      const { runSuite } = await import('../../lab/suite.js');
      setExit(
        await runSuite(ctx, config, {
          provision: opts.skipProvision ? 'never' : (opts.provision as 'auto' | 'always' | 'never'),
          activate: !opts.skipActivate,
          deactivateAfter: Boolean(opts.deactivateAfter),
          embedded: Boolean(opts.embedded),
          thresholds,
          json: Boolean(opts.json),
          limit,
        }),
      );
    });
}
