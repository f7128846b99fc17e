// The pid file of a running lab (PidFile): refused when a live process holds it, removed at the
// end only if it is still ours. `tblab stop` reads it.
import { existsSync, rmSync } from 'node:fs';
import { writeJsonAtomic, readJsonFile } from '../common/fs.js';
import { LabError } from '../common/errors.js';
import type { PidFile } from '../common/control.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** `tblab.pid` → `tblab-2of4.pid` for an instance (when the default name is in use). */
export function instancePidPath(path: string, instance: { index: number; count: number } | undefined): string {
  return instance && path.endsWith('tblab.pid') ? path.replace(/tblab\.pid$/, `tblab-${instance.index}of${instance.count}.pid`) : path;
}

export interface HeldPidFile {
  /** Rewrites the pid file with more fields (e.g. the dashboard URL once it listens). */
  update(patch: Partial<Omit<PidFile, 'pid' | 'runId'>>): void;
  release(): void;
}

export function acquirePidFile(path: string, content: PidFile): HeldPidFile {
  let existing: PidFile | null = null;
  try {
    existing = readJsonFile<PidFile | null>(path, null);
  } catch {
    /* unreadable: stale */
  }
  if (existing && existing.pid !== process.pid && alive(existing.pid)) {
    throw new LabError('ALREADY_RUNNING', {
      message: `Run ${existing.runId} (pid ${existing.pid}) holds ${path}`,
      details: { pid: existing.pid, runId: existing.runId },
    });
  }
  writeJsonAtomic(path, content);
  return {
    update(patch) {
      content = { ...content, ...patch };
      writeJsonAtomic(path, content);
    },
    release() {
      try {
        const now = readJsonFile<PidFile | null>(path, null);
        if (now && now.pid === content.pid && now.runId === content.runId && existsSync(path)) rmSync(path, { force: true });
      } catch {
        /* leave it: the next run sees a dead pid */
      }
    },
  };
}
