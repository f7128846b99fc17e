// Process state at the edge (docs/design.md#conventions): commands receive a RunContext instead of touching
// process.* directly, so tests can run them in-process and nothing deep can exit the process.
export interface RunContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Machine output (--json, paths). */
  stdout: NodeJS.WritableStream;
  /** Human progress and messages. */
  stderr: NodeJS.WritableStream;
  /** Register a handler for SIGINT/SIGTERM; returns an unregister function. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
}

export function processContext(): RunContext {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    onSignal(handler) {
      const h = (s: NodeJS.Signals) => handler(s);
      process.on('SIGINT', h);
      process.on('SIGTERM', h);
      return () => {
        process.off('SIGINT', h);
        process.off('SIGTERM', h);
      };
    },
  };
}

export function say(ctx: RunContext, line: string): void {
  ctx.stderr.write(line + '\n');
}
