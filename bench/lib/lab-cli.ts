// The lab as its users run it: `tblab provision` and `tblab run --json` as child processes of the
// harness (the built CLI, dist/src/cli/main.js), configured by environment variables only, in a
// scratch folder with no .env, so nothing of the developer's own configuration leaks into a scenario.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '../../src/report/schema.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface LabProcess {
  child: ChildProcess;
  pid: number;
  /** Lines of stderr seen so far whose text starts with `prefix` (e.g. `plan: `). */
  linesStartingWith(prefix: string): string[];
  /** Exit code, stdout and the last 4,000 characters of stderr once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderrTail: string }>;
}

/**
 * Starts `tblab <args>` in `cwd` with only PATH, HOME and `env` in its environment; its whole
 * stderr goes to `<cwd>/<logName>` (the run's own progress lines, kept for the reader).
 */
export function tblab(args: string[], env: Record<string, string>, cwd: string, logName: string): LabProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(cwd, logName));
  let stdout = '';
  let tail = '';
  let partial = '';
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    log.write(d);
    const text = partial + d.toString();
    tail = (tail + d.toString()).slice(-4000);
    const parts = text.split('\n');
    partial = parts.pop()!;
    // only the lines a caller may look for are kept (a long run prints a progress line every 5 s)
    for (const l of parts) if (l.startsWith('plan: ') || l.startsWith('run ')) lines.push(l);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderrTail: string }>((resolve) =>
    child.on('close', (code, signal) => {
      log.end();
      resolve({ code, signal, stdout, stderrTail: tail.trim() });
    }),
  );
  return { child, pid: child.pid!, linesStartingWith: (p) => lines.filter((l) => l.startsWith(p)), exited };
}

/** `tblab provision`: creates DEVICE_COUNT devices on the server at TB_URL, tokens into DATA_DIR. */
export async function provisionFleet(env: Record<string, string>, cwd: string): Promise<number> {
  const t0 = performance.now();
  const p = tblab(['provision'], env, cwd, 'provision.log');
  const r = await p.exited;
  if (r.code !== 0) throw new Error(`tblab provision exited with ${r.code}: ${r.stderrTail}`);
  return (performance.now() - t0) / 1000;
}

/** What `tblab run --json` prints on stdout when it ends (src/lab/run.ts). */
export interface RunSummary {
  runId: string;
  report: string | null;
  outcome: string;
  endReason: string;
  sent: number;
  acked: number;
  failed: number;
  connected: number;
  generator: string;
  delivery: { sent: number; acked: number; stored: number; lost: number; duplicates: number } | null;
  problem: { code: string; message: string } | null;
}

/** The run's summary line and its report file. */
export function readRunOutput(stdout: string): { summary: RunSummary; report: RunReport | null } {
  const line = stdout.trim().split('\n').filter(Boolean).pop();
  if (!line) throw new Error('tblab run printed no JSON summary');
  const summary = JSON.parse(line) as RunSummary;
  const report = summary.report ? (JSON.parse(readFileSync(summary.report, 'utf8')) as RunReport) : null;
  return { summary, report };
}
