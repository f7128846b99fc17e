// The shared test helpers own their cleanup: it runs when the test ends, newest first, so a temp
// folder outlives the processes that write into it; fileScope works at any depth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, fileScope } from '../helpers/cleanup.js';
import { tmpDir } from '../helpers/tmp.js';
import { cleanEnv } from '../helpers/tblab-cli.js';
import { waitFor } from '../helpers/wait.js';

test('cleanup runs once at the end, newest first, and every step runs even when one throws', async () => {
  const hooks: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => void hooks.push(fn) };
  const order: string[] = [];
  cleanup(scope, () => order.push('first registered'));
  cleanup(scope, () => {
    order.push('second registered');
    throw new Error('boom');
  });
  cleanup(scope, () => order.push('third registered'));
  assert.equal(hooks.length, 1, 'one hook per test');
  assert.deepEqual(order, []);
  await assert.rejects(async () => hooks[0](), /boom/);
  assert.deepEqual(order, ['third registered', 'second registered', 'first registered']);
});

test('tmpDir is under os.tmpdir() and removed when its test ends, after what was started later', async (t) => {
  let dir = '';
  await t.test('inner', (tt) => {
    dir = tmpDir(tt, 'tblab-helpers-');
    assert.equal(join(dir, '..'), tmpdir());
    writeFileSync(join(dir, 'file.txt'), 'x');
    // a process stopped at the test end that still creates its data folder on the way out
    cleanup(tt, () => mkdirSync(join(dir, 'data', 'runs'), { recursive: true }));
  });
  assert.ok(dir !== '');
  assert.equal(existsSync(dir), false, `${dir} is left behind`);
});

test('fileScope used inside two tests cleans up after each of them', async (t) => {
  const dirs: string[] = [];
  await t.test('a', () => void dirs.push(tmpDir(fileScope)));
  assert.equal(existsSync(dirs[0]), false);
  await t.test('b', () => void dirs.push(tmpDir(fileScope)));
  assert.equal(existsSync(dirs[1]), false);
});

test('children of the CLI runner get PATH, HOME and this TMPDIR, and nothing else unless asked', () => {
  const env = cleanEnv({ DEVICE_COUNT: '5' });
  assert.deepEqual(Object.keys(env).sort(), ['DEVICE_COUNT', 'HOME', 'PATH', 'TMPDIR']);
  assert.equal(env.TMPDIR, tmpdir());
  assert.equal(cleanEnv({ HOME: '/elsewhere' }).HOME, '/elsewhere');
});

test('waitFor returns the first truthy value and names what it waited for on timeout', async () => {
  let n = 0;
  assert.equal(await waitFor('n to reach 3', () => (++n >= 3 ? n : 0), 1000, 1), 3);
  await assert.rejects(
    waitFor('never', () => false, 50, 5),
    /timed out after 50 ms waiting for never/,
  );
});
