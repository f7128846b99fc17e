import type { Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';
import { KEYS, redactConfig, renderConfigDoc } from '../../config/index.js';

/** `tblab config`: print the resolved configuration (secrets removed) or the key reference. */
export function registerConfig(program: Command, ctx: LabContext): void {
  withConfigOptions(
    program
      .command('config')
      .description('show the resolved configuration (secrets removed), or --docs for the key reference')
      .option('--docs', 'print docs/configuration.md: every key with its default and meaning (Markdown)')
      .option('--json', 'machine-readable output'),
  ).action((opts: Record<string, unknown>) => {
    if (opts.docs) {
      ctx.stdout.write(renderConfigDoc());
      return;
    }
    const { config } = resolveConfig(ctx, opts);
    const red = redactConfig(config);
    if (opts.json) ctx.stdout.write(JSON.stringify(red, null, 2) + '\n');
    else {
      // the .env key names (DEVICE_COUNT), as the user writes them; --json keeps the property names
      const keyOf = new Map<string, string>(Object.entries(KEYS).map(([k, d]) => [d.prop as string, k]));
      for (const [k, v] of Object.entries(red)) {
        ctx.stdout.write(`${keyOf.get(k) ?? k} = ${v === undefined ? '(not set)' : JSON.stringify(v)}\n`);
      }
    }
  });
}
