import type { Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';
import { ERRORS } from '../../shared/errors.js';

/** `tblab check`: REST, MQTT and generator pre-flight, one verdict line each. */
export function registerCheck(program: Command, ctx: LabContext, setExit: (code: number) => void): void {
  withConfigOptions(
    program
      .command('check')
      .description('check REST login, one page of devices, MQTT reachability (+ a CONNECT with a provisioned token) and the generator pre-flight')
      .option('--count <n>', 'planned number of devices (DEVICE_COUNT)')
      .option('--json', 'print the checks as JSON on stdout'),
  ).action(async (opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts, { count: 'DEVICE_COUNT' });
    const { runCheck } = await import('../../lab/check.js');
    const r = await runCheck(ctx, config);
    if (opts.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
    for (const c of r.checks) {
      const text = c.message.toLowerCase().startsWith(c.name) ? c.message : `${c.name}: ${c.message}`;
      ctx.stderr.write(`[${c.verdict}]${c.verdict === 'OK' ? '  ' : ' '}${text}\n`);
    }
    const failed = r.checks.find((c) => c.verdict === 'FAIL');
    if (failed?.code) ctx.stderr.write(`error [${failed.code}]: ${failed.name} failed\n  hint: ${ERRORS[failed.code].hint}\n`);
    setExit(r.exitCode);
  });
}
