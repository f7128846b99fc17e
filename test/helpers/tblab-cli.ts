// The one way tests run the built `tblab` (dist/src/cli/main.js): to completion with captured
// output, or in the background to watch and signal. The child gets only PATH, HOME and TMPDIR from
// this process (so the developer's settings never leak in) plus the keys a test gives; it is killed
// when the test ends, before the temp folders made earlier are removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { cleanup, type Scope } from './cleanup.js';
import { waitFor } from './wait.js';

/** The built CLI entry, found from this compiled file (dist/test/helpers → dist/src/cli). */
export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  /** Added to PATH, HOME and TMPDIR (a key set here wins). */
  env?: NodeJS.ProcessEnv;
  /** Kill the child (SIGKILL) after this long; the result then has signal SIGKILL. */
  timeoutMs?: number;
  /** Run node through this command line, e.g. `['prlimit', '--nofile=200:200']` (it must exec its arguments). */
  via?: string[];
}

export interface Spawned {
  child: ChildProcess;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stderr or stdout matches; rejects when the process ends first or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the process has exited (its own children may still hold the output open). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the process has exited and its output is closed. */
  readonly done: Promise<CliResult>;
}

/** What every child inherits from the test process: PATH, HOME and the run's TMPDIR. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmpdir(), ...extra };
}

/** Starts tblab in the background. */
export function startTblab(t: Scope, args: string[], opts: CliOptions): Spawned {
  const env = cleanEnv(opts.env);
  const argv = [...(opts.via ?? []), process.execPath, MAIN, ...args];
  const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let closed = false;
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      closed = true;
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const timer = opts.timeoutMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
  void exit.then(
    () => timer && clearTimeout(timer),
    () => timer && clearTimeout(timer),
  );
  cleanup(t, async () => {
    if (running()) child.kill('SIGKILL');
    await exit.catch(() => undefined);
  });
  return {
    child,
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
    exit,
    done,
    async waitFor(re, timeoutMs = 60_000) {
      const seen = () => re.test(err) || re.test(out);
      try {
        await waitFor(`${re} in tblab ${args.join(' ')}`, () => seen() || closed, timeoutMs);
      } catch (e) {
        throw new Error(`${(e as Error).message}\nstderr:\n${err}\nstdout:\n${out}`, { cause: e });
      }
      if (!seen()) throw new Error(`tblab ${args.join(' ')} exited before ${re}\nstderr:\n${err}`);
    },
  };
}

/** Runs tblab to completion. */
export function tblab(t: Scope, args: string[], opts: CliOptions): Promise<CliResult> {
  return startTblab(t, args, opts).done;
}
