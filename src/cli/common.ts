// Options every configurable command shares, and the flag → config-key mapping.
import { type Command, Option } from 'commander';
import { loadConfigOrThrow, type RawValues, type ConfigKey, type ResolvedConfig } from '../config/index.js';
import type { LabContext } from '../lab/context.js';
import { LabError } from '../common/errors.js';

/** Adds --dotenv (alias --env-file), --scenario and --set KEY=VALUE (repeatable). */
export function withConfigOptions(cmd: Command): Command {
  return (
    cmd
      .option('--dotenv <path>', 'read configuration from this .env file (default ./.env when present)')
      // Node 20 itself reads `--env-file` anywhere in argv and exits 9 when the file is missing,
      // before tblab runs: `--dotenv` is the spelling that always reaches us
      .option('--env-file <path>', 'same as --dotenv (a missing file is reported by Node itself, exit 9)')
      .option('--scenario <file>', 'scenario JSON file of KEY: value (overrides .env and environment)')
      .addOption(new Option('--set <KEY=VALUE...>', 'set any configuration key (highest priority)'))
  );
}

/**
 * Resolves the config for a command: .env < environment < scenario < flags.
 * `flagKeys` maps commander option names to config keys (e.g. { duration: 'DURATION_SEC' }).
 */
export function resolveConfig(
  ctx: LabContext,
  opts: Record<string, unknown>,
  flagKeys: Partial<Record<string, ConfigKey>> = {},
): { config: ResolvedConfig; warnings: string[] } {
  const flags: RawValues = {};
  for (const [opt, key] of Object.entries(flagKeys)) {
    const v = opts[opt];
    // a repeatable flag (--workload) gives a list: the key takes it as a comma list
    if (v !== undefined && key)
      flags[key] = typeof v === 'boolean' ? (v ? '1' : '0') : Array.isArray(v) ? v.join(',') : (v as string | number);
  }
  for (const kv of (opts.set as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new LabError('USAGE', { message: `--set expects KEY=VALUE, got ${JSON.stringify(kv)}` });
    (flags as Record<string, string>)[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const r = loadConfigOrThrow({
    cwd: ctx.cwd,
    env: ctx.env,
    envFile: (opts.dotenv as string | undefined) ?? (opts.envFile as string | undefined) ?? undefined,
    scenarioFile: opts.scenario as string | undefined,
    flags,
  });
  for (const w of r.warnings) ctx.stderr.write(`warning: ${w}\n`);
  return r;
}
