#!/usr/bin/env node
// tblab — the only place that parses argv, prints errors and exits the process.
import { Command, CommanderError } from 'commander';
import { processContext } from '../lab/context.js';
import { LabError, ExitCode, describeError } from '../common/errors.js';
import { COMMANDS } from './commands/index.js';
import { TOOL_VERSION } from '../common/version.js';
import { redactText } from '../common/redact.js';
import { explainUsageError } from './suggest.js';

async function main(argv: string[]): Promise<number> {
  const ctx = processContext();
  const program = new Command('tblab')
    .description('Load lab for ThingsBoard: provision a fleet, drive MQTT load, measure what breaks and why.')
    .version(TOOL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nA run lasts until Ctrl+C or `tblab stop` against a real server unless --duration (DURATION_SEC) is set;\n' +
        'with --embedded (npm start) it lasts 60 s. Coming from the Python lab: docs/coming-from-python.md',
    )
    .exitOverride();
  program.configureOutput({
    writeOut: (s) => ctx.stdout.write(s),
    writeErr: (s) => ctx.stderr.write(s),
    outputError: (s, write) => write(explainUsageError(program, s)),
  });

  let exitCode: number = ExitCode.OK;
  for (const register of COMMANDS)
    register(program, ctx, (code) => {
      exitCode = code;
    });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.OK;
      return ExitCode.INVALID_CONFIG;
    }
    throw e;
  }
  return exitCode;
}

function printError(e: unknown): number {
  const json = process.argv.includes('--json');
  if (e instanceof LabError) {
    // the last net for a credential a library quoted in its message (`http://user:pw@host`)
    if (json) process.stdout.write(redactText(JSON.stringify({ error: e.toJSON() })) + '\n');
    process.stderr.write(redactText(`error [${e.code}]: ${e.message}\n  hint: ${e.hint}\n`));
    return e.exitCode;
  }
  process.stderr.write(redactText(`error [INTERNAL]: ${describeError(e)}\n${e instanceof Error && e.stack ? e.stack + '\n' : ''}`));
  return ExitCode.INTERNAL;
}

// `tblab run | head` closes stdout (or `2>&1 | head` stderr) early: not an error, and no reason to
// end a run without its report. The stream is destroyed by the error, so later writes go nowhere.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = printError(e);
  },
);
