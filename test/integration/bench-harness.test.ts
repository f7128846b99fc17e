// The benchmark harness end to end on its SMOKE scenario (50 devices, 2 s window) against a real
// mosquitto: the result file has the issue-8 shape and mosquitto counted exactly what the lab sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findMosquitto, INSTALL_HINT } from '../../bench/lib/mosquitto.js';
import { tmpDir } from '../helpers/tmp.js';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const mosquitto = findMosquitto();

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test(
  'npm run bench -- --only SMOKE: issue-8 JSON shape, mosquitto counted exactly what was sent',
  { skip: mosquitto ? false : `mosquitto is not installed (${INSTALL_HINT})`, timeout: 180_000 },
  async (t) => {
    const dir = tmpDir(t, 'bench-test-');
    const out = join(dir, 'r.json');
    const r = await run(['--only', 'SMOKE', '--retries', '0', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SMOKE/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    for (const k of ['cpuModel', 'cores', 'memoryGB', 'kernel', 'node', 'loadAvgStart', 'loadAvgEnd'])
      assert.ok(k in json.machine, `machine.${k}`);
    assert.equal(json.scenarios.length, 1);
    const s = json.scenarios[0];
    assert.equal(s.name, 'SMOKE');
    for (const k of ['usPerMsg', 'receivedPerSec', 'intendedPerSec', 'scheduleLagP99Ms', 'rssMB', 'baselineUsPerMsg'])
      assert.equal(typeof s[k], 'number', k);
    for (const k of ['kbPerConn', 'connectSeconds']) assert.ok(k in s && (s[k] === null || typeof s[k] === 'number'), k);
    assert.equal(s.intendedPerSec, 500);
    assert.ok(s.receivedPerSec > 0 && s.usPerMsg > 0 && s.rssMB > 0);
    // the lab's own count of PUBLISH packets written equals mosquitto's $SYS count, and so for the baseline
    assert.ok(s.sent > 0);
    assert.equal(s.receivedTotal, s.sent);
    assert.ok(s.baseline.sent > 0);
    assert.equal(s.baseline.receivedTotal, s.baseline.sent);
    assert.equal(s.pass, true);
  },
);

test('npm run bench rejects an unknown scenario and names the known ones', async () => {
  const r = await run(['--only', 'B9']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown scenario B9; known: B1, B2, B3, B4, B5/);
});

test('npm run bench -- --devices takes a fleet size for B6 and refuses anything else', async () => {
  const r = await run(['--only', 'B6', '--devices', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--devices needs a whole number in 1\.\.100000/);
});
