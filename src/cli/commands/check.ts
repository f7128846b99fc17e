import type { Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';

/** `tblab check`: REST, MQTT and generator pre-flight, one verdict line each. */
export function registerCheck(program: Command, ctx: LabContext, setExit: (code: number) => void): void {
  withConfigOptions(
    program
      .command('check')
      .description(
        'check REST login, one page of devices, MQTT reachability (+ a CONNECT with a provisioned token) and the generator pre-flight',
      )
      .option('--count <n>', 'planned number of devices (DEVICE_COUNT)')
      .option('--json', 'print the checks as JSON on stdout'),
  ).action(async (opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts, { count: 'DEVICE_COUNT' });
    const { checkCommand } = await import('../../lab/check.js');
    setExit(await checkCommand(ctx, config, { json: Boolean(opts.json) }));
  });
}
