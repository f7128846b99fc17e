// Spawning the built `tblab` (dist/src/cli/main.js) for CLI tests: run to completion with captured
// output, or start in the background and stop it; every process is killed in t.after.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { PACKAGE_ROOT } from '../../src/shared/version.js';

export const MAIN = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface Spawned {
  child: ChildProcess;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stderr (or stdout) matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  readonly done: Promise<CliResult>;
}

/** A fresh working directory with no .env (so the developer's settings never leak into tests). */
export const tempWorkdir = (prefix = 'tblab-cli-') => mkdtempSync(join(tmpdir(), prefix));

/** Environment for a test run: only PATH/HOME and the given keys (nothing from the developer's shell). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
}

export function startTblab(t: TestContext, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Spawned {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d) => { out += d; waiters.forEach((w) => w()); });
  child.stderr!.on('data', (d) => { err += d; waiters.forEach((w) => w()); });
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err })));
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return {
    child,
    get stdout() { return out; },
    get stderr() { return err; },
    done,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => { if (re.test(err) || re.test(out)) { clearTimeout(timer); resolve(); } };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in tblab ${args.join(' ')}\nstderr:\n${err}\nstdout:\n${out}`)), timeoutMs);
        waiters.push(check);
        void done.then(() => { check(); clearTimeout(timer); if (!re.test(err) && !re.test(out)) reject(new Error(`tblab ${args.join(' ')} exited before ${re}\nstderr:\n${err}`)); });
        check();
      });
    },
  };
}

/** Runs tblab to completion. */
export function tblab(t: TestContext, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return startTblab(t, args, opts).done;
}
