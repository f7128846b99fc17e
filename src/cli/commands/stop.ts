import type { Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';
import { LabError } from '../../common/errors.js';

/** `tblab stop`: stop the lab of this DATA_DIR / SIM_PID_FILE from another shell. */
export function registerStop(program: Command, ctx: LabContext): void {
  withConfigOptions(
    program
      .command('stop')
      .description('stop a running lab (pid file): SIGTERM or the control endpoint, wait for its report, clean up')
      .option('--timeout <sec>', 'seconds to wait for the report before asking again (default 60)', '60')
      .option('--instance <i/N>', 'stop the instance i of N (its own pid file)')
      .option('--via <how>', 'signal | http (control endpoint) | auto (http on Windows, else signal)', 'auto')
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts, { instance: 'INSTANCE' });
    const timeoutSec = Number(opts.timeout);
    if (!(timeoutSec > 0)) throw new LabError('USAGE', { message: `--timeout expects seconds > 0, got ${JSON.stringify(opts.timeout)}` });
    const via = String(opts.via);
    if (via !== 'signal' && via !== 'http' && via !== 'auto')
      throw new LabError('USAGE', { message: `--via expects signal, http or auto, got ${JSON.stringify(via)}` });
    const { stopCommand } = await import('../../lab/stop.js');
    await stopCommand(ctx, config, { timeoutSec, via, json: Boolean(opts.json) });
  });
}
