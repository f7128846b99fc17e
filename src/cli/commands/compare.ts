import { Option, type Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** `tblab compare A B`: A is the baseline, B the candidate. */
export function registerCompare(program: Command, ctx: LabContext, setExit: (code: number) => void): void {
  withConfigOptions(
    program
      .command('compare')
      .description('two runs side by side with deltas and a verdict (A = baseline, B = candidate)')
      .argument('<a>', 'baseline: run id, `latest`, or a report path')
      .argument('<b>', 'candidate: run id, `latest`, or a report path')
      .addOption(
        new Option('--band <band>', 'noise band: 5% for every metric (default 5%), or METRIC=10% / METRIC=20ms for one (repeatable)')
          .argParser(collect)
          .default([]),
      )
      .option('--fail-on-worse', 'exit 5 when B is worse than A beyond the bands')
      .option('--json', 'print the comparison as JSON on stdout'),
  ).action(async (a: string, b: string, opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts);
    const { compareReports } = await import('../../lab/compare.js');
    const bands = opts.band as string[];
    const failOnWorse = Boolean(opts.failOnWorse);
    setExit(compareReports(ctx, { dataDir: config.dataDir, a, b, bands, json: Boolean(opts.json), failOnWorse }));
  });
}
