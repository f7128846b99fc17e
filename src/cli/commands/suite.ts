// `tblab suite [options] [-- run flags]`: provision → activate → run → deactivate → summary.
// The flags after `--` are parsed by `tblab run`'s own definition, so they are exactly its flags.
import { Command, CommanderError, Option } from 'commander';
import type { RunContext } from '../context.js';
import { withConfigOptions, resolveConfig } from '../common.js';
import { LabError } from '../../shared/errors.js';
import { registerRun, FLAG_KEYS } from './run.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** Parses `args` as `tblab run` flags; returns the options run's action would have received. */
async function parseRunFlags(ctx: RunContext, args: string[]): Promise<Record<string, unknown>> {
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

export function registerSuite(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  withConfigOptions(
    program
      .command('suite')
      .description('one command: provision if needed → activate → run → deactivate (--deactivate-after) → summary; flags after -- go to `tblab run`')
      .argument('[runFlags...]', 'after --: flags for `tblab run`, e.g. -- --duration 300 --interval 5')
      .addOption(new Option('--provision <when>', 'auto: when tokens.json is missing or smaller than DEVICE_COUNT; always; never').choices(['auto', 'always', 'never']).default('auto'))
      .option('--deactivate-after', 'pause the whole fleet at the end, also when the run fails or is interrupted')
      .option('--embedded', 'run everything against the embedded emulator (a child process; files in <DATA_DIR>/embedded)')
      .option('--devices <n>', 'fleet size (DEVICE_COUNT)')
      .addOption(new Option('--threshold <expr>', 'pass/fail rule, e.g. ack_p99<200ms (repeatable; exit 5 when one fails; grammar: docs/thresholds.md)').argParser(collect).default([]))
      .option('--abort-on-fail', 'stop the run as soon as a threshold fails that cannot recover')
      .option('--abort-grace <sec>', 'no early abort during the first <sec> seconds', '30')
      .option('--json', 'print the summary as JSON on stdout'),
  ).action(async (runFlags: string[], opts: Record<string, unknown>) => {
    const runOpts = await parseRunFlags(ctx, runFlags);
    const merged: Record<string, unknown> = { ...runOpts, ...opts, set: [...((runOpts.set as string[]) ?? []), ...((opts.set as string[]) ?? [])] };
    if (runOpts.envFile && !opts.envFile) merged.envFile = runOpts.envFile;
    if (runOpts.scenario && !opts.scenario) merged.scenario = runOpts.scenario;
    const grace = Number(opts.abortGrace);
    if (!(grace >= 0)) throw new LabError('USAGE', { message: `--abort-grace expects seconds >= 0, got ${JSON.stringify(opts.abortGrace)}` });
    const { config } = resolveConfig(ctx, merged, FLAG_KEYS);
    const { runSuite } = await import('../../lab/suite.js');
    setExit(await runSuite(ctx, config, {
      provision: opts.provision as 'auto' | 'always' | 'never', deactivateAfter: Boolean(opts.deactivateAfter), embedded: Boolean(opts.embedded),
      thresholds: opts.threshold as string[], abortOnFail: Boolean(opts.abortOnFail), abortGraceSec: grace, json: Boolean(opts.json),
    }));
  });
}
