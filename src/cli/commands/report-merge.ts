// `tblab report merge <reports…|dir>` (and the same as `tblab merge-reports`): one report of the
// fleet from the reports of the instances that split it. Flags map to options; the work is in src/lab.
import type { Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';

function configure(cmd: Command, ctx: LabContext): Command {
  return withConfigOptions(
    cmd
      .argument('[reports...]', "instance report files, run ids, or a folder (default <DATA_DIR>/runs: the newest run's instances)")
      .option('--run-id <id>', 'run id of the merged report (default: common prefix of the instance run ids + "-merged")')
      .option('--partial', "merge even when some instances' reports are missing (outcome: partial)")
      .option('--json', 'print the merged report as JSON on stdout'),
  ).action(async (reports: string[], _own: Record<string, unknown>, self: Command) => {
    // under `report`, flags both commands define (--json, --env-file, --set…) land on the parent
    const opts = self.optsWithGlobals() as Record<string, unknown>;
    const { config } = resolveConfig(ctx, opts);
    const { reportMergeCommand } = await import('../../lab/report-merge.js');
    reportMergeCommand(ctx, {
      inputs: reports,
      dataDir: config.dataDir,
      runId: opts.runId as string | undefined,
      allowPartial: Boolean(opts.partial),
      json: Boolean(opts.json),
    });
  });
}

/** Adds `merge` under the `tblab report` command (which the report module owns). */
export function registerReportMerge(reportCommand: Command, ctx: LabContext): void {
  configure(
    reportCommand.command('merge').description('merge the reports of instances that split one fleet (--instance i/N) into one run report'),
    ctx,
  );
}

/**
 * `tblab merge-reports`, and `tblab report merge` when the `report` command is registered already
 * (keep this after registerReport in COMMANDS).
 */
export function registerMergeReports(program: Command, ctx: LabContext): void {
  configure(program.command('merge-reports').description('same as `tblab report merge`'), ctx);
  const report = program.commands.find((c) => c.name() === 'report');
  if (report) registerReportMerge(report, ctx);
}
