// `tblab suite [options] [-- run flags]`: provision → activate → run → deactivate → summary.
// The flags after `--` are parsed by `tblab run`'s own definition, so they are exactly its flags.
import { Command, CommanderError, Option } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';
import { LabError } from '../../shared/errors.js';
import { registerRun, FLAG_KEYS } from './run.js';
import { withThresholdOptions, thresholdOptions } from './threshold-options.js';
import { parseLimitSpec } from './limit.js';

/** Parses `args` as `tblab run` flags; returns the options run's action would have received. */
async function parseRunFlags(ctx: LabContext, args: string[]): Promise<Record<string, unknown>> {
  const program = new Command('tblab').exitOverride();
  program.configureOutput({ writeOut: (s) => ctx.stderr.write(s), writeErr: () => {} }); // errors are rethrown as USAGE below
  registerRun(program, ctx, () => {});
  const run = program.commands.find((c) => c.name() === 'run')!;
  let captured: Record<string, unknown> = {};
  run.action((opts: Record<string, unknown>) => { captured = opts; });
  try {
    await program.parseAsync(['run', ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new LabError('USAGE', { message: `flags after -- are passed to \`tblab run\`: ${e.message.replace(/^error: /, '')}`, hint: 'Run `tblab run --help` for the flags it accepts.' });
    throw e;
  }
  for (const own of ['embedded', 'json']) {
    if (captured[own]) throw new LabError('USAGE', { message: `--${own} belongs before --: \`tblab suite --${own} -- …\`` });
  }
  return captured;
}

export function registerSuite(program: Command, ctx: LabContext, setExit: (code: number) => void): void {
  withThresholdOptions(withConfigOptions(
    program
      .command('suite')
      .description('one command: provision if needed → activate → run → deactivate (--deactivate-after) → summary; flags after -- go to `tblab run`')
      .argument('[runFlags...]', 'after --: flags for `tblab run`, e.g. -- --duration 300 --interval 5')
      .addOption(new Option('--provision <when>', 'auto: when tokens.json is missing or smaller than DEVICE_COUNT; always; never').choices(['auto', 'always', 'never']).default('auto'))
      .option('--deactivate-after', 'pause the whole fleet at the end, also when the run fails or is interrupted')
      .option('--embedded', 'run everything against the embedded emulator (a child process; files in <DATA_DIR>/embedded)')
      .option('--devices <n>', 'fleet size (DEVICE_COUNT)')
      .option('--limit <vary:from-to>', 'a limit search instead of the run, e.g. rate:500-20000 (defaults of `tblab limit`)')
      .option('--json', 'print the summary as JSON on stdout'),
  )).action(async (runFlags: string[], opts: Record<string, unknown>) => {
    const runOpts = await parseRunFlags(ctx, runFlags);
    const thresholds = thresholdOptions((l) => ctx.stderr.write(l + '\n'), runOpts, opts);
    const merged: Record<string, unknown> = { ...runOpts, ...opts, set: [...((runOpts.set as string[]) ?? []), ...((opts.set as string[]) ?? [])] };
    if (runOpts.envFile && !opts.envFile) merged.envFile = runOpts.envFile;
    if (runOpts.scenario && !opts.scenario) merged.scenario = runOpts.scenario;
    const { config } = resolveConfig(ctx, merged, FLAG_KEYS);
    const limit = opts.limit === undefined ? undefined : parseLimitSpec(opts.limit as string);
    if (limit && thresholds.expressions.length) throw new LabError('USAGE', { message: '--threshold does not apply to --limit (use `tblab limit --slo`)' });
    const { runSuite } = await import('../../lab/suite.js');
    setExit(await runSuite(ctx, config, {
      provision: opts.provision as 'auto' | 'always' | 'never', deactivateAfter: Boolean(opts.deactivateAfter), embedded: Boolean(opts.embedded),
      thresholds, json: Boolean(opts.json), limit,
    }));
  });
}
