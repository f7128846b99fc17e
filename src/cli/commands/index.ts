// Every subcommand registers itself here. Each module only maps flags to options and lazily
// imports its implementation from src/lab, so `--help` stays fast.
import type { Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { registerConfig } from './config.js';
import { registerProvision } from './provision.js';
import { registerDevices } from './devices.js';
import { registerDelete } from './delete.js';
import { registerCheck } from './check.js';
import { registerRun } from './run.js';
import { registerReport } from './report.js';
import { registerCompare } from './compare.js';
import { registerStop } from './stop.js';
import { registerSuite } from './suite.js';
import { registerMergeReports } from './report-merge.js';
import { registerEmulator } from './emulator.js';
import { registerLimit } from './limit.js';

export type Register = (program: Command, ctx: LabContext, setExit: (code: number) => void) => void;

export const COMMANDS: Register[] = [
  registerConfig,
  registerProvision,
  registerDevices,
  registerDelete,
  registerCheck,
  registerRun,
  registerReport,
  registerCompare,
  registerStop,
  registerSuite,
  registerLimit,
  registerEmulator,
  // after registerReport: adds `report merge` to it
  registerMergeReports,
];
