import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfigOrThrow } from '../../src/config/index.js';
import { resolveInstance, runIdFor } from '../../src/lab/instance.js';
import { writeJsonAtomic } from '../../src/common/fs.js';
import { sliceBounds, parseInstance } from '../../src/common/fleet.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

const cwd = tmpDir(fileScope, 'tblab-inst-');
/** Resolves like `tblab run` does: config layers from env (+ flags), then the instance. */
function resolve(env: Record<string, string>, flags: Record<string, string> = {}) {
  const { config } = loadConfigOrThrow({ cwd, env, envFile: false, flags });
  return resolveInstance(config, env);
}

test('no instance settings: the whole fleet', () => {
  assert.equal(resolve({}), null);
});

test('--instance and INSTANCE give i/N', () => {
  assert.deepEqual(resolve({}, { INSTANCE: '2/4' }), { index: 2, count: 4, label: '2/4', source: 'INSTANCE' });
  assert.deepEqual(resolve({ INSTANCE: '4/4', INSTANCE_COUNT: '4' }), { index: 4, count: 4, label: '4/4', source: 'INSTANCE' });
});

test('a Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based) + INSTANCE_COUNT', () => {
  for (let k = 0; k < 4; k++) {
    assert.deepEqual(resolve({ JOB_COMPLETION_INDEX: String(k), INSTANCE_COUNT: '4' }), {
      index: k + 1,
      count: 4,
      label: `${k + 1}/4`,
      source: 'JOB_COMPLETION_INDEX',
    });
  }
  // an explicit INSTANCE that agrees is fine
  assert.equal(resolve({ JOB_COMPLETION_INDEX: '1', INSTANCE: '2/4' })?.label, '2/4');
});

test('contradictions and half-wired settings are errors naming the keys', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ JOB_COMPLETION_INDEX: '0' }, /JOB_COMPLETION_INDEX=0 is set .* but INSTANCE_COUNT is not/],
    [{ JOB_COMPLETION_INDEX: '4', INSTANCE_COUNT: '4' }, /JOB_COMPLETION_INDEX=4 is outside 0\.\.3 for INSTANCE_COUNT=4/],
    [{ JOB_COMPLETION_INDEX: 'two', INSTANCE_COUNT: '4' }, /JOB_COMPLETION_INDEX="two": expected a 0-based whole number/],
    [{ JOB_COMPLETION_INDEX: '0', INSTANCE: '2/4' }, /INSTANCE=2\/4 disagrees with JOB_COMPLETION_INDEX=0 \(instance 1\/4\)/],
    [{ INSTANCE: '1/3', INSTANCE_COUNT: '4' }, /INSTANCE=1\/3 disagrees with INSTANCE_COUNT=4/],
    [{ INSTANCE_COUNT: '4' }, /INSTANCE_COUNT=4 is set but neither INSTANCE nor JOB_COMPLETION_INDEX/],
  ];
  for (const [env, re] of cases) assert.throws(() => resolve(env), re, JSON.stringify(env));
  assert.throws(() => resolve({ INSTANCE: '5/4' }), /INSTANCE="5\/4".*expected i\/N with 1 <= i <= N/s);
  assert.throws(() => resolve({ INSTANCE_COUNT: '0' }), /INSTANCE_COUNT="0".*expected a whole number from 1/s);
});

test('the slices of every split are disjoint and cover the fleet', () => {
  for (const total of [0, 1, 7, 40, 100, 1001]) {
    for (const n of [1, 2, 3, 4, 7, 16]) {
      let next = 0;
      for (let i = 1; i <= n; i++) {
        const { start, end } = sliceBounds(total, i, n);
        assert.equal(start, next, `${total} over ${n}: slice ${i} starts where ${i - 1} ended`);
        assert.ok(end - start >= Math.floor(total / n) && end - start <= Math.ceil(total / n));
        next = end;
      }
      assert.equal(next, total);
    }
  }
});

test('parseInstance accepts i/N only', () => {
  assert.deepEqual(parseInstance('3/8'), { index: 3, count: 8 });
  for (const bad of ['0/4', '5/4', '1/0', '2', 'a/b', '1/4/2', '']) assert.equal(parseInstance(bad), null, bad);
});

test('RUN_ID gives every instance of a fleet run one run id; without it a time-stamped one', () => {
  const dataDir = tmpDir(fileScope, 'tblab-runid-');
  assert.equal(runIdFor({ runId: 'soak-7', instance: { index: 2, count: 4 }, dataDir }), 'soak-7-i2of4');
  assert.equal(runIdFor({ runId: 'soak-7', instance: undefined, dataDir }), 'soak-7');
  assert.match(
    runIdFor({ runId: undefined, instance: { index: 3, count: 4 }, dataDir }, new Date(Date.UTC(2026, 10, 27, 15, 1, 2))),
    /^20261127-150102-[0-9a-f]{4}-i3of4$/,
  );
  writeJsonAtomic(join(dataDir, 'runs', 'soak-7-i1of4.json'), {});
  assert.throws(
    () => runIdFor({ runId: 'soak-7', instance: { index: 1, count: 4 }, dataDir }),
    /RUN_ID=soak-7: .*soak-7-i1of4\.json exists already/,
  );
  assert.throws(() => resolve({ RUN_ID: 'a b' }), /RUN_ID="a b".*expected up to 100 letters/s);
});
