import type { Command } from 'commander';
import type { RunContext } from '../context.js';
import { withConfigOptions, resolveConfig } from '../common.js';

/** `tblab provision`: ensure the fleet exists and write tokens.json + devices.csv. */
export function registerProvision(program: Command, ctx: RunContext): void {
  withConfigOptions(
    program
      .command('provision')
      .description('ensure DEVICE_COUNT devices <prefix>-NNN exist (idempotent, resumable); write data/provisioning/tokens.json and devices.csv')
      .option('--count <n>', 'number of devices (DEVICE_COUNT)')
      .option('--prefix <prefix>', 'device name prefix (DEVICE_PREFIX)')
      .option('--concurrency <n>', 'concurrent REST requests (PROVISION_CONCURRENCY)')
      .option('--instance <i/N>', 'provision only slice i of N of the fleet (INSTANCE)')
      .option('--rotate-tokens', 'give every device a new access token')
      .option('--prune', 'delete <prefix>-N devices beyond the count')
      .option('--no-update', 'leave reused devices whose label or type/profile differ from the configuration as they are (drift)')
      .option('--no-progress', 'no progress bar')
      .option('--json', 'print the summary as JSON on stdout'),
  ).action(async (opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts, { count: 'DEVICE_COUNT', prefix: 'DEVICE_PREFIX', concurrency: 'PROVISION_CONCURRENCY', instance: 'INSTANCE' });
    const { provision } = await import('../../lab/provision.js');
    const s = await provision(config, {
      rotateTokens: Boolean(opts.rotateTokens), prune: Boolean(opts.prune), progress: opts.progress !== false, update: opts.update !== false,
    }, ctx);
    if (opts.json) ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
    else {
      ctx.stderr.write(
        `provisioned ${s.total} devices "${s.prefix}" on ${s.server} in ${s.seconds} s: ${s.created} created, ${s.reused} reused` +
          `${s.rotated ? `, ${s.rotated} new tokens` : ''}${s.pruned ? `, ${s.pruned} pruned` : ''}` +
          `${s.updated ? `, ${s.updated} updated to the configuration` : ''}` +
          `${Object.keys(s.drift).length ? `, ${Object.keys(s.drift).length} differ (--no-update)` : ''}` +
          ` (concurrency ${s.concurrency}, ${s.requests} requests${retriesText(s.retries)})\n  tokens:   ${s.tokenFile}\n  manifest: ${s.manifest}\n`,
      );
    }
  });
}

function retriesText(r: { rateLimited: number; serverError: number; network: number }): string {
  const n = r.rateLimited + r.serverError + r.network;
  return n ? `, ${n} retried: ${r.rateLimited} × 429, ${r.serverError} × 5xx, ${r.network} × network` : '';
}
