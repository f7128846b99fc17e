import { Option, type Command } from 'commander';
import { WORKLOAD_NAMES } from '../../common/workloads.js';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';

/** `tblab provision`: ensure the fleet exists and write tokens.json + devices.csv. */
export function registerProvision(program: Command, ctx: LabContext): void {
  withConfigOptions(
    program
      .command('provision')
      .description(
        'ensure DEVICE_COUNT devices <prefix>-NNN exist (idempotent, resumable); write data/provisioning/tokens.json and devices.csv',
      )
      .option('--count <n>', 'number of devices (DEVICE_COUNT)')
      .addOption(
        new Option(
          '--workload <name>',
          `the workloads to provision for, repeatable: ${WORKLOAD_NAMES.join('|')} (default device)`,
        ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
      )
      .option('--gateways <n>', 'gateway devices <prefix>-gNNN of the gateway workload (GATEWAYS)')
      .option('--prefix <prefix>', 'device name prefix (DEVICE_PREFIX)')
      .option('--concurrency <n>', 'concurrent REST requests (PROVISION_CONCURRENCY)')
      .option('--instance <i/N>', 'provision only slice i of N of the fleet (INSTANCE)')
      .option('--rotate-tokens', 'give every device a new access token')
      .option('--prune', 'delete <prefix>-N devices beyond the count')
      .option('--no-update', 'leave reused devices whose label or type/profile differ from the configuration as they are (drift)')
      .option('--no-progress', 'no progress bar')
      .option('--json', 'print the summary as JSON on stdout'),
  ).action(async (opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts, {
      count: 'DEVICE_COUNT',
      workload: 'WORKLOADS',
      gateways: 'GATEWAYS',
      prefix: 'DEVICE_PREFIX',
      concurrency: 'PROVISION_CONCURRENCY',
      instance: 'INSTANCE',
    });
    const { provisionCommand } = await import('../../lab/provision-command.js');
    await provisionCommand(ctx, config, {
      rotateTokens: Boolean(opts.rotateTokens),
      prune: Boolean(opts.prune),
      progress: opts.progress !== false,
      json: Boolean(opts.json),
      update: opts.update !== false,
    });
  });
}
