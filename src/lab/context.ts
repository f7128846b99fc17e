// Process state at the edge: every use case receives a LabContext instead of touching process.*,
// so tests can run them in-process and nothing deep can exit the process. src/cli makes the
// real one (processContext) and only maps flags to options.
export interface LabContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Machine output (--json, paths). */
  stdout: NodeJS.WritableStream;
  /** Human progress and messages. */
  stderr: NodeJS.WritableStream;
  /** Register a handler for SIGINT/SIGTERM; returns an unregister function. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  /** Wall clock, ms since epoch. */
  now(): number;
}

export function processContext(): LabContext {
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
    now: () => Date.now(),
  };
}

/** A context for library callers and tests: the given parts, the rest quiet (no signals, output dropped). */
export function labContext(parts: Partial<LabContext> = {}): LabContext {
  const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
  return { cwd: process.cwd(), env: {}, stdout: quiet, stderr: quiet, onSignal: () => () => {}, now: () => Date.now(), ...parts };
}

/** A human line on stderr. */
export function say(ctx: Pick<LabContext, 'stderr'>, line: string): void {
  ctx.stderr.write(line + '\n');
}
