import type { Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';

/** `tblab delete`: remove the fleet (manifest or --prefix), mirrored to the parent server. */
export function registerDelete(program: Command, ctx: LabContext): void {
  withConfigOptions(
    program
      .command('delete')
      .description('delete the fleet listed in data/provisioning/devices.csv (or every <prefix>-N device); mirrored to TB_PARENT_URL')
      .option('--prefix <prefix>', 'delete every <prefix>-N device of the tenant instead of the manifest')
      .option('--yes', 'confirm the deletion')
      .option('--dry-run', 'list what would be deleted; delete nothing')
      .option('--no-progress', 'no progress bar')
      .option('--json', 'print the summary as JSON on stdout'),
  ).action(async (opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts);
    const { deleteCommand } = await import('../../lab/delete.js');
    await deleteCommand(ctx, config, {
      prefix: opts.prefix as string | undefined,
      yes: Boolean(opts.yes),
      dryRun: Boolean(opts.dryRun),
      progress: opts.progress !== false,
      json: Boolean(opts.json),
    });
  });
}
