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
    const { deleteFleet } = await import('../../lab/delete.js');
    const s = await deleteFleet(ctx, config, { prefix: opts.prefix as string | undefined, yes: Boolean(opts.yes), dryRun: Boolean(opts.dryRun), progress: opts.progress !== false });
    if (opts.json) ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
    if (s.dryRun) {
      for (const d of s.devices) ctx.stderr.write(`would delete ${d.name} (${d.id})\n`);
      ctx.stderr.write(`dry run: ${s.devices.length} device(s) would be deleted on ${s.server}${s.parent ? ` and ${s.parent.server}` : ''}; nothing was deleted\n`);
      return;
    }
    const p = s.parent ? `; parent ${s.parent.server}: ${s.parent.deleted} deleted, ${s.parent.alreadyGone} already gone` : '';
    ctx.stderr.write(`deleted ${s.deleted} device(s) on ${s.server} (${s.alreadyGone} already gone)${p} in ${s.seconds} s; ${s.remaining} left in devices.csv\n`);
  });
}
