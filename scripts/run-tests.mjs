#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Node 20's --test does not expand globs, so the list is built here.
// The run gets its own fresh TMPDIR (test files, the CLI, emulators, mosquitto and Chromium inherit
// it), so other processes on the machine neither add to it nor see it. Tests remove what they make
// (test/helpers/tmp.ts); whatever is still inside after the tests fails the run, named here.
// Usage: node scripts/run-tests.mjs [substring filter...]
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})(root);
files.sort();
if (files.length === 0) {
  console.error(`no test files under ${root}${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

/** Everything under `dir`, as paths relative to it; a folder's content is listed up to `depth` levels down. */
function contents(dir, depth = 2, base = dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(relative(base, p) + (e.isDirectory() ? '/' : ''));
    if (e.isDirectory() && depth > 1) out.push(...contents(p, depth - 1, base));
  }
  return out.sort();
}

const runTmp = mkdtempSync(join(tmpdir(), 'tblab-test-run-'));
// mosquitto started as root drops to its own user before reading the TLS test's certificate
chmodSync(runTmp, 0o755);
const before = contents(runTmp);
if (before.length > 0) throw new Error(`the fresh TMPDIR ${runTmp} is not empty: ${before.join(', ')}`);

// a Ctrl-C reaches the test runner too; this process stays to check and remove the folder
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => {});
// Four files at once: most tests wait on timers and sockets, not the CPU (on 2 cores the whole suite took
// 540 s at 2 and 420 s at 4, all passing). TEST_CONCURRENCY overrides it.
const args = ['--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 4}`, ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, TMPDIR: runTmp } });

const left = contents(runTmp);
rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });
if (left.length === 0) {
  console.log(`temp-dir check: nothing left in the run's TMPDIR (${runTmp}, now removed)`);
  process.exit(r.status ?? 1);
}
const shown = left
  .slice(0, 40)
  .map((p) => `  ${p}`)
  .join('\n');
const more = left.length > 40 ? `\n  … and ${left.length - 40} more` : '';
const what = `${left.length} entr${left.length === 1 ? 'y' : 'ies'}`;
console.error(`temp-dir check FAILED: the tests left ${what} in their TMPDIR ${runTmp} (now removed):\n${shown}${more}`);
process.exit(1);
