// Temp folders of tests: made under os.tmpdir() (the run's own TMPDIR under scripts/run-tests.mjs)
// and removed when the test ends, after the processes and servers started later have stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, type Scope } from './cleanup.js';

/** A fresh empty folder, removed (recursively) when `t` ends. */
export function tmpDir(t: Scope, prefix = 'tblab-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));
  return dir;
}
