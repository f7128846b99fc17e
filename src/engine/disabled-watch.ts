// Live reload of the disabled-devices file (DisabledDevicesFile): fs.watch on its folder for
// promptness (atomic writers replace the file) plus a 1 s poll, because fs.watch is not
// reliable on every filesystem. A malformed file keeps the previous list and is reported.
import { existsSync, mkdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { disabledNames } from '../common/control.js';

export interface DisabledWatch {
  readonly current: string[];
  close(): void;
}

export function readDisabledDevices(path: string): string[] {
  if (!existsSync(path)) return [];
  const names = disabledNames(JSON.parse(readFileSync(path, 'utf8')));
  if (!names) throw new Error(`${path}: expected {"version":1,"devices":["name",…]} or ["name",…]`);
  return [...new Set(names)].sort();
}

export function watchDisabledDevices(path: string, onChange: (names: string[]) => void, onError: (message: string) => void): DisabledWatch {
  let current: string[] = [];
  let stamp = '';
  let lastError = '';
  const check = () => {
    let s = 'absent';
    try {
      if (existsSync(path)) {
        const st = statSync(path);
        s = `${st.mtimeMs}:${st.size}:${st.ino}`;
      }
    } catch {
      /* raced with a rename: next check */
    }
    if (s === stamp) return;
    stamp = s;
    try {
      const next = readDisabledDevices(path);
      lastError = '';
      if (next.join('\n') !== current.join('\n')) {
        current = next;
        onChange(next);
      }
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== lastError) onError(`disabled-devices file ignored: ${msg}`);
      lastError = msg;
      stamp = ''; // retry on the next poll (a writer may be mid-way)
    }
  };
  check();
  let watcher: FSWatcher | null = null;
  try {
    mkdirSync(dirname(path), { recursive: true });
    watcher = watch(dirname(path), (_ev, file) => {
      if (!file || file === basename(path)) check();
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = null;
    });
  } catch {
    watcher = null;
  }
  const poll = setInterval(check, 1000);
  poll.unref();
  return {
    get current() {
      return current;
    },
    close() {
      clearInterval(poll);
      watcher?.close();
    },
  };
}
