// The CLI's name for the lab context (src/lab/context.ts), kept for src/cli/commands/config.ts.
export type { LabContext as RunContext } from '../lab/context.js';
