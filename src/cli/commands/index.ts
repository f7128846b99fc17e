// Every subcommand registers itself here. Each module only maps flags to options and lazily
// imports its implementation from src/lab, so `--help` stays fast.
import type { Command } from 'commander';
import type { RunContext } from '../context.js';
import { registerConfig } from './config.js';
import { registerRun } from './run.js';
import { registerEmulator } from './emulator.js';

export type Register = (program: Command, ctx: RunContext, setExit: (code: number) => void) => void;

export const COMMANDS: Register[] = [
  registerConfig,
  registerRun,
  registerEmulator,
];
