import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { registerMergeReports } from '../../src/cli/commands/report-merge.js';
import type { LabContext } from '../../src/lab/context.js';
import { sliceBounds } from '../../src/common/fleet.js';
import { writeJsonAtomic } from '../../src/common/fs.js';
import type { RunReport } from '../../src/report/schema.js';
import { instanceReport } from '../helpers/instance-report.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

function context(cwd: string): LabContext & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => {
    out += b;
  });
  stderr.on('data', (b) => {
    err += b;
  });
  return { cwd, env: {}, stdout, stderr, onSignal: () => () => {}, now: () => Date.now(), out: () => out, err: () => err };
}

function fixture(): string {
  const cwd = tmpDir(fileScope, 'tblab-mcli-');
  for (const i of [1, 2]) {
    const { start, end } = sliceBounds(20, i, 2);
    const r = instanceReport({
      index: i,
      count: 2,
      deviceIndexes: Array.from({ length: end - start }, (_, k) => start + k + 1),
      ackMs: [i, 2 * i],
      connectMs: [3],
      startMs: Date.UTC(2026, 10, 27, 15),
      seconds: 3,
      runId: `fleetrun-i${i}of2`,
    });
    writeJsonAtomic(join(cwd, 'data', 'runs', `${r.runId}.json`), r);
  }
  return cwd;
}

/** A stand-in for the `report` command with the flags it shares with `merge`. */
function program(ctx: LabContext): Command {
  const p = new Command('tblab').exitOverride();
  p.command('report')
    .argument('[run]')
    .option('--json')
    .option('--env-file <path>')
    .option('--set <KEY=VALUE...>')
    .action(() => {
      throw new Error('the parent report command ran instead of merge');
    });
  registerMergeReports(p, ctx);
  return p;
}

test('`tblab report merge --json` merges and prints the report, flags shared with `report` included', async () => {
  const cwd = fixture();
  const ctx = context(cwd);
  await program(ctx).parseAsync(['node', 'tblab', 'report', 'merge', '--json', '--set', 'DEVICE_COUNT=20']);
  const merged = JSON.parse(ctx.out()) as RunReport;
  assert.equal(merged.runId, 'fleetrun-merged');
  assert.deepEqual(merged.mergedFrom, ['fleetrun-i1of2', 'fleetrun-i2of2']);
  assert.equal(Object.keys(merged.devices).length, 20);
  assert.match(ctx.err(), /merged 2 instance reports/);
  assert.ok(existsSync(join(cwd, 'data', 'runs', 'fleetrun-merged.json')));
});

test('`tblab merge-reports` is the same command at top level', async () => {
  const cwd = fixture();
  const ctx = context(cwd);
  await program(ctx).parseAsync(['node', 'tblab', 'merge-reports', 'data/runs/fleetrun-i1of2.json', 'fleetrun-i2of2', '--run-id', 'x']);
  assert.equal(ctx.out(), '');
  assert.match(ctx.err(), /written to .*data\/runs\/x\.json/);
});
