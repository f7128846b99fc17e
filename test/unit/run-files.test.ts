import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ReportFiles } from '../../src/report/write.js';
import type { RunReport } from '../../src/report/schema.js';
import { tmpDir } from '../helpers/tmp.js';

test('a checkpoint splices the cached device JSON into the report: same JSON as a full write, no temp files left', async (t) => {
  const dir = tmpDir(t, 'tblab-runfiles-');
  const files = new ReportFiles(dir, 'r-1');
  const devices = { 'sim-001': { sent: 3, note: '$& and "quotes"' }, 'sim-002': { sent: 0 } };
  // a report-shaped object; only the splice is under test, so the fields beyond `devices` are few
  const report = { runId: 'r-1', outcome: 'partial', devices: {}, histograms: { ackMs: null } } as unknown as RunReport;
  const json = JSON.stringify(devices);
  // chunks cut anywhere (even inside a multi-byte character) are written as they are
  const bytes = Buffer.from(json.replace('quotes', 'quötes'));
  files.writeCheckpoint(report, [
    bytes.subarray(0, 5),
    bytes.subarray(5, bytes.indexOf(0xc3) + 1),
    bytes.subarray(bytes.indexOf(0xc3) + 1),
  ]);
  const written = readFileSync(files.reportPath, 'utf8');
  assert.equal(written, JSON.stringify({ ...report, devices: { ...devices, 'sim-001': { sent: 3, note: '$& and "quötes"' } } }) + '\n');
  assert.equal(readFileSync(files.latestPath, 'utf8'), written);
  assert.deepEqual(readdirSync(join(dir, 'runs')).sort(), ['latest.json', 'r-1.json']);
});
