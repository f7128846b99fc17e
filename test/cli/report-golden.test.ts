// `tblab report` and `tblab compare` on real reports (test/fixtures/reports, two runs of the engine
// against the emulator, the second with faults: scripts/make-report-fixtures.mjs) compared with
// golden output, timestamps and paths normalised. UPDATE_GOLDEN=1 rewrites the golden files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tblab, startTblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { PACKAGE_ROOT } from '../../src/common/version.js';

const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures');
const reportFile = (name: string) => join(FIXTURES, 'reports', `${name}.json`);

/** Timestamps, run ids and file paths change from run to run and machine to machine. */
function normalise(text: string): string {
  return text
    .replaceAll(join(FIXTURES, 'reports'), '<fixtures>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
    .replace(/\b\d{8}-\d{6}-[0-9a-f]{4}\b/g, '<run-id>');
}

function golden(name: string, actual: string): void {
  const path = join(FIXTURES, 'golden', name);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(join(FIXTURES, 'golden'), { recursive: true });
    writeFileSync(path, actual);
  }
  assert.equal(
    actual,
    readFileSync(path, 'utf8'),
    `${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it after a deliberate change)`,
  );
}

const cases: Array<[string, string[], number]> = [
  ['report-baseline.txt', ['report', reportFile('baseline')], 0],
  ['report-degraded.txt', ['report', reportFile('degraded')], 0],
  ['compare-baseline-degraded.txt', ['compare', reportFile('baseline'), reportFile('degraded')], 0],
  [
    'compare-reversed-connect-bands.txt',
    [
      'compare',
      reportFile('degraded'),
      reportFile('baseline'),
      '--band',
      '10%',
      '--band',
      'connect_p50=100ms',
      '--band',
      'connect_p95=100ms',
      '--band',
      'connect_p99=0.2s',
      '--fail-on-worse',
    ],
    0,
  ],
  ['compare-fail-on-worse.txt', ['compare', reportFile('baseline'), reportFile('degraded'), '--fail-on-worse'], 5],
];

for (const [file, args, code] of cases) {
  test(`tblab ${args.map((a) => a.replace(/^.*\/reports\//, '')).join(' ')} matches ${file}`, async (t) => {
    const r = await tblab(t, args, { cwd: tmpDir(t, 'tblab-cli-') });
    assert.equal(r.code, code, r.stderr);
    golden(file, normalise(r.stdout));
  });
}

test('report --json of a real report carries the findings and reconciles with the file', async (t) => {
  const r = await tblab(t, ['report', reportFile('degraded'), '--json'], { cwd: tmpDir(t, 'tblab-cli-') });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  const raw = JSON.parse(readFileSync(reportFile('degraded'), 'utf8'));
  const devices = Object.values(raw.devices) as Array<{ sent: number; disconnects: unknown[] }>;
  assert.equal(
    s.traffic.sent,
    devices.reduce((a, d) => a + d.sent, 0),
    'sent reconciles with the per-device records',
  );
  assert.equal(s.disconnects.total, raw.metrics.disconnects.total);
  assert.ok(s.devicesWithErrors.length > 0, 'the refused connects show up as devices with errors');
  assert.equal(s.firstDevices.length, 20);
});

test('report --serve shows the run in the dashboard until Ctrl+C', { timeout: 60_000 }, async (t) => {
  const s = startTblab(t, ['report', reportFile('baseline'), '--serve', '--set', 'METRICS_PORT=0'], { cwd: tmpDir(t, 'tblab-cli-') });
  await s.waitFor(/dashboard at (http:\/\/127\.0\.0\.1:\d+)/);
  const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+)/.exec(s.stderr)![1];
  const metrics = (await (await fetch(`${url}/api/metrics`)).json()) as { runId: string; state: string };
  assert.equal(metrics.runId, JSON.parse(readFileSync(reportFile('baseline'), 'utf8')).runId);
  s.child.kill('SIGINT');
  const done = await s.done;
  assert.equal(done.code, 0, done.stderr);
});
