// `tblab stop`: find the running lab by its pid file, ask it to stop (SIGTERM, or the dashboard's
// control endpoint where signals do not exist), wait until it has written its report and exited,
// and clean up. A stale pid file (its process is gone) is reported and removed.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { LabError } from '../common/errors.js';
import type { PidFile } from '../common/control.js';
import type { ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { instancePidPath } from './pid-file.js';
import { say } from './context.js';
import { reportPathsFor } from '../common/data-dirs.js';

export interface StopOptions {
  pidFile: string;
  dataDir: string;
  /** Seconds to wait for the lab to finish its report before hurrying it (second request). Default 60. */
  timeoutSec: number;
  /** `signal` (default where signals exist), `http` (control endpoint). */
  via: 'signal' | 'http' | 'auto';
  /** For tests: the platform deciding `auto`. */
  platform?: NodeJS.Platform;
}

export interface StopResult {
  pid: number;
  runId: string;
  /** The report the lab wrote, when it exists. */
  reportPath: string | null;
  via: 'signal' | 'http';
  waitedSec: number;
}

/** After the hurry request, give up after this long, seconds. */
const HURRY_GRACE_SEC = 15;
const POLL_MS = 200;

/** Reads the pid file; null when absent. Throws NOT_RUNNING for a file that is not a pid file. */
export function readPidFile(path: string): PidFile | null {
  if (!existsSync(path)) return null;
  let p: Partial<PidFile>;
  try {
    p = JSON.parse(readFileSync(path, 'utf8')) as Partial<PidFile>;
  } catch {
    // an older lab wrote the bare pid
    const n = Number(readFileSync(path, 'utf8').trim());
    if (!Number.isInteger(n) || n <= 0)
      throw new LabError('NOT_RUNNING', { message: `The pid file ${path} holds neither JSON nor a pid`, hint: `Remove ${path} by hand.` });
    p = { pid: n, runId: '', startedAt: '', instance: null, dashboardUrl: null, controlTokenFile: null };
  }
  if (!Number.isInteger(p.pid) || (p.pid as number) <= 0)
    throw new LabError('NOT_RUNNING', { message: `The pid file ${path} has no valid pid`, hint: `Remove ${path} by hand.` });
  return p as PidFile;
}

/** True when `pid` is a live process that looks like a node process (guards against pid reuse). */
export function isLabAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync(cmdline)) return true; // no /proc (macOS, Windows): trust kill(0)
  try {
    return /node|tblab/.test(readFileSync(cmdline, 'utf8'));
  } catch {
    return false; // exited between the two checks
  }
}

async function requestViaHttp(p: PidFile): Promise<void> {
  if (!p.dashboardUrl || !p.controlTokenFile) {
    throw new LabError('NOT_RUNNING', {
      message: `The lab (pid ${p.pid}) has no control endpoint (started without the dashboard)`,
      hint: 'Stop it with a signal (kill -TERM) or Ctrl+C in its terminal.',
    });
  }
  const token = readFileSync(p.controlTokenFile, 'utf8').trim();
  const url = `${p.dashboardUrl.replace(/\/+$/, '')}/api/control/stop`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new LabError('TARGET_UNREACHABLE', { message: `The control endpoint ${url} did not answer: ${(e as Error).message}`, cause: e });
  }
  if (res.status !== 202)
    throw new LabError('REQUEST_REJECTED', {
      message: `The control endpoint ${url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`,
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForExit(pid: number, sec: number): Promise<boolean> {
  const until = Date.now() + sec * 1000;
  while (Date.now() < until) {
    if (!isLabAlive(pid)) return true;
    await sleep(POLL_MS);
  }
  return !isLabAlive(pid);
}

export async function stopLab(ctx: LabContext, o: StopOptions): Promise<StopResult> {
  const p = readPidFile(o.pidFile);
  if (!p)
    throw new LabError('NOT_RUNNING', { message: `No pid file at ${o.pidFile}: no lab is running with this DATA_DIR / SIM_PID_FILE` });
  if (!isLabAlive(p.pid)) {
    rmSync(o.pidFile, { force: true });
    throw new LabError('NOT_RUNNING', {
      message: `Stale pid file ${o.pidFile}: process ${p.pid} (run ${p.runId || '?'}) is gone; the file was removed`,
      hint: 'Nothing to stop. Its last report (if any) is in data/runs/.',
    });
  }
  const platform = o.platform ?? process.platform;
  const via: 'signal' | 'http' = o.via === 'auto' ? (platform === 'win32' ? 'http' : 'signal') : o.via;
  const ask = async () => (via === 'http' ? requestViaHttp(p) : void process.kill(p.pid, 'SIGTERM'));
  const t0 = Date.now();
  const how = via === 'http' ? p.dashboardUrl + '/api/control/stop' : 'SIGTERM';
  say(ctx, `stopping run ${p.runId || '?'} (pid ${p.pid}) via ${how}; waiting up to ${o.timeoutSec}s for its report…`);
  await ask();
  if (!(await waitForExit(p.pid, o.timeoutSec))) {
    say(ctx, `still running after ${o.timeoutSec}s: asking again (the lab skips the ack drain on a second request)`);
    if (via === 'signal') process.kill(p.pid, 'SIGTERM');
    if (!(await waitForExit(p.pid, HURRY_GRACE_SEC))) {
      throw new LabError('STOP_TIMEOUT', {
        message: `The lab (pid ${p.pid}) did not stop within ${o.timeoutSec + HURRY_GRACE_SEC}s`,
        details: { pid: p.pid },
      });
    }
  }
  // the lab removes its own pid file; one left behind by a crash is removed here
  if (readPidFile(o.pidFile)?.pid === p.pid) rmSync(o.pidFile, { force: true });
  const report = p.runId ? (reportPathsFor(o.dataDir, `${p.runId}.json`).find((f) => existsSync(f)) ?? null) : null;
  return { pid: p.pid, runId: p.runId, reportPath: report, via, waitedSec: (Date.now() - t0) / 1000 };
}

/** `tblab stop` for the lab of `cfg` (its instance's pid file): stops it and prints the result. */
export async function stopCommand(
  ctx: LabContext,
  cfg: ResolvedConfig,
  o: Pick<StopOptions, 'timeoutSec' | 'via'> & { json: boolean },
): Promise<void> {
  const pidFile = instancePidPath(cfg.pidFile, cfg.instance);
  const r = await stopLab(ctx, { pidFile, dataDir: cfg.dataDir, timeoutSec: o.timeoutSec, via: o.via });
  say(ctx, `stopped run ${r.runId || '?'} (pid ${r.pid}) in ${r.waitedSec.toFixed(1)}s${r.reportPath ? `; report: ${r.reportPath}` : ''}`);
  if (o.json) ctx.stdout.write(JSON.stringify(r) + '\n');
}
