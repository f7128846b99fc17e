import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runReportMerge } from '../../src/lab/report-merge.js';
import { sliceBounds } from '../../src/common/fleet.js';
import { writeJsonAtomic } from '../../src/common/fs.js';
import type { RunReport } from '../../src/report/schema.js';
import { instanceReport } from '../helpers/instance-report.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';
import { labContext } from '../../src/lab/context.js';

const T0 = Date.UTC(2026, 10, 27, 15, 0, 0);

function report(i: number, n: number, startMs: number, runBase: string): RunReport {
  const { start, end } = sliceBounds(40, i, n);
  return instanceReport({
    index: i,
    count: n,
    deviceIndexes: Array.from({ length: end - start }, (_, k) => start + k + 1),
    ackMs: [1 + i, 2 + i, 3 + i],
    connectMs: [5],
    startMs,
    seconds: 6,
    runId: `${runBase}-i${i}of${n}`,
  });
}

function dataDir(): string {
  const d = tmpDir(fileScope, 'tblab-merge-');
  mkdirSync(join(d, 'runs'), { recursive: true });
  return d;
}

const put = (dir: string, r: RunReport) => writeJsonAtomic(join(dir, 'runs', `${r.runId}.json`), r);

test("merging a folder picks the newest run's instances and writes <run-id>.json and latest.json", () => {
  const d = dataDir();
  // an older run split in 2, then a newer run split in 4 (started up to 2 s apart)
  for (const i of [1, 2]) put(d, report(i, 2, T0 - 3_600_000, 'run-old'));
  for (const i of [1, 2, 3, 4]) put(d, report(i, 4, T0 + i * 500, 'run-new'));
  writeFileSync(join(d, 'runs', 'notes.json'), '{"not":"a report"}');
  writeJsonAtomic(join(d, 'runs', 'latest.json'), report(4, 4, T0 + 2000, 'run-new'));
  const r = runReportMerge(labContext({ cwd: d }), { inputs: [], dataDir: d });
  assert.deepEqual(r.report.mergedFrom, ['run-new-i1of4', 'run-new-i2of4', 'run-new-i3of4', 'run-new-i4of4']);
  assert.equal(r.report.runId, 'run-new-merged');
  assert.equal(r.path, join(d, 'runs', 'run-new-merged.json'));
  const written = JSON.parse(readFileSync(r.path, 'utf8')) as RunReport;
  assert.deepEqual(written, JSON.parse(JSON.stringify(r.report)));
  assert.deepEqual(JSON.parse(readFileSync(join(d, 'runs', 'latest.json'), 'utf8')), written);
  assert.equal(Object.keys(written.devices).length, 40);
  // a second merge of the same folder ignores the merged report it wrote
  const again = runReportMerge(labContext({ cwd: d }), { inputs: [join(d, 'runs')], dataDir: d, runId: 'again' });
  assert.deepEqual(again.report.mergedFrom, r.report.mergedFrom);
});

test('inputs can be files or run ids; a missing one is named', () => {
  const d = dataDir();
  for (const i of [1, 2]) put(d, report(i, 2, T0, 'pair'));
  const r = runReportMerge(labContext({ cwd: d }), { inputs: ['pair-i1of2', join(d, 'runs', 'pair-i2of2.json')], dataDir: d });
  assert.equal(r.report.metrics.connections.configured, 40);
  assert.throws(
    () => runReportMerge(labContext({ cwd: d }), { inputs: ['pair-i1of2', 'nope.json'], dataDir: d }),
    (e: Error) => {
      assert.match(e.message, /No report at .*nope\.json/);
      return true;
    },
  );
  writeFileSync(join(d, 'bad.json'), '{"tool":"other"}');
  const ctx = labContext({ cwd: d });
  assert.throws(() => runReportMerge(ctx, { inputs: ['bad.json'], dataDir: d }), /bad\.json is not a tb-load-lab run report/);
});

test('a folder with two overlapping reports for one instance asks for file names', () => {
  const d = dataDir();
  for (const i of [1, 2]) put(d, report(i, 2, T0, 'a'));
  put(d, report(2, 2, T0 + 1000, 'b'));
  assert.throws(() => runReportMerge(labContext({ cwd: d }), { inputs: [], dataDir: d }), /2 overlapping reports for instance 2\/2/);
});

test('a folder without instance reports is a clear error', () => {
  const d = dataDir();
  assert.throws(() => runReportMerge(labContext({ cwd: d }), { inputs: [], dataDir: d }), /No instance reports .* in .*runs/);
  assert.equal(existsSync(join(d, 'runs', 'latest.json')), false);
});

test('in a folder, a shared RUN_ID groups the instances even next to an overlapping run of another RUN_ID', () => {
  const d = dataDir();
  for (const i of [1, 2, 3]) put(d, report(i, 3, T0 + i * 100, 'soak-a'));
  for (const i of [1, 2, 3]) put(d, report(i, 3, T0 + 5000 + i * 100, 'soak-b'));
  const r = runReportMerge(labContext({ cwd: d }), { inputs: [], dataDir: d });
  assert.deepEqual(r.report.mergedFrom, ['soak-b-i1of3', 'soak-b-i2of3', 'soak-b-i3of3']);
  assert.equal(r.report.runId, 'soak-b-merged');
});
