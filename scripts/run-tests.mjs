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
import { spawn } from 'node:child_process';

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
// Two lanes run side by side. The `limit` searches load the machine on purpose and judge latency, so
// they run one file at a time (a search starved by another search fails its steps); every other
// file runs three at a time — most tests wait on timers and sockets, not the CPU. The serial lane's
// output is printed when it ends; the summary adds both lanes. TEST_CONCURRENCY sets the second lane.
const env = { ...process.env, TMPDIR: runTmp };
const heavy = files.filter((f) => /(^|\/)limit[^/]*\.test\.js$/.test(f));
const light = files.filter((f) => !heavy.includes(f));
/** Runs one lane; resolves with its exit code and its `ℹ pass/fail` counts. */
function lane(laneFiles, concurrency, live) {
  if (laneFiles.length === 0) return Promise.resolve({ code: 0, pass: 0, fail: 0, out: '' });
  const args = ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...laneFiles];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  const take = (stream, dest) =>
    stream.on('data', (b) => {
      out += b.toString();
      if (live) dest.write(b);
    });
  take(child.stdout, process.stdout);
  take(child.stderr, process.stderr);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const count = (k) => {
        const m = [...out.matchAll(new RegExp(`^ℹ ${k} (\\d+)$`, 'gm'))].pop();
        return m ? Number(m[1]) : 0;
      };
      resolve({ code: code ?? 1, pass: count('pass'), fail: count('fail'), out });
    }),
  );
}
const [h, l] = await Promise.all([lane(heavy, 1, false), lane(light, Number(process.env.TEST_CONCURRENCY ?? 3), true)]);
if (heavy.length) process.stdout.write(`\n=== limit searches (one file at a time) ===\n${h.out}`);
console.log(`\nℹ pass ${h.pass + l.pass}\nℹ fail ${h.fail + l.fail}`);
const r = { status: h.code || l.code };

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
