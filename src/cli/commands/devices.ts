import type { Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';
import type { DeviceAction } from '../../lab/devices.js';

const ACTIONS: Record<DeviceAction, string> = {
  activate: 'resume devices (remove them from the paused list; manual_active=true)',
  deactivate: 'pause devices (a running lab disconnects them; manual_active=false)',
  toggle: 'flip each selected device between paused and active',
};

/** `tblab devices activate|deactivate|toggle`: fleet control. */
export function registerDevices(program: Command, ctx: LabContext): void {
  const devices = program
    .command('devices')
    .description('pause / resume devices: the live paused list and manual_* attributes in ThingsBoard');
  for (const [action, doc] of Object.entries(ACTIONS) as [DeviceAction, string][]) {
    withConfigOptions(
      devices
        .command(action)
        .description(doc)
        .option('--all', 'every device of tokens.json')
        .option('--devices <names>', 'comma-separated device names')
        .option('--prefix <prefix>', 'every <prefix>-N device')
        .option('--dry-run', 'print what would change; change nothing')
        .option('--json', 'print the summary as JSON on stdout'),
    ).action(async (opts: Record<string, unknown>) => {
      const { config } = resolveConfig(ctx, opts);
      const { devicesCommand } = await import('../../lab/devices.js');
      const names =
        typeof opts.devices === 'string'
          ? opts.devices
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined;
      await devicesCommand(ctx, config, {
        action,
        all: Boolean(opts.all),
        devices: names,
        prefix: opts.prefix as string | undefined,
        dryRun: Boolean(opts.dryRun),
        json: Boolean(opts.json),
      });
    });
  }
}
