// `tblab limit --instance i/N`: two CLI processes split one search against one emulator modelling a
// saturating server (capacity.ts), each holding its share of every ladder step in the same window
// (RUN_ID + --start-at); `tblab report merge` of their limit reports gives the fleet's search: loads
// summed, the knee between the last passing and the first failing step, and every publish sent by
// either instance accounted for by the emulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tblab, startTblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { startEmulator, fetchStats } from '../helpers/emulator.js';
import type { LimitReport } from '../../src/lab/limit/report.js';
import type { LimitVerdict } from '../../src/lab/limit/types.js';
import type { RunReport } from '../../src/report/schema.js';

// 300 msg/s passes well inside the capacity, 900 is half again above it
const CAPACITY = 600;

test('two instances step one ladder together; report merge sums their shares and finds the knee', { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const emu = await startEmulator(t, { capacity: CAPACITY });
  const cwd = tmpDir(t, 'tblab-limit-inst-');
  const env = {
    TB_URL: emu.restUrl,
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(emu.mqttPort),
    DEVICE_COUNT: '40',
    SHARDS: '1',
    DASHBOARD: '0',
    CONNECT_RATE: '0',
    // no REST read-back per step (it adds DELIVERY_SETTLE_SEC + 3 s to every window; the one-lab CLI
    // test covers it): loss is then the QoS 1 publishes never acknowledged
    DELIVERY_CHECK: '0',
    DRAIN_TIMEOUT_MS: '1000',
    RUN_ID: 'lim-split',
  };
  const prov = await tblab(t, ['provision'], { cwd, env });
  assert.equal(prov.code, 0, prov.stderr);
  // a few seconds for both processes to start; the ladder is 2 steps of 10 s (ramp 1, hold 5, tail 3, settle 1):
  // a hold under 5 s leaves the backlog trend one or two live samples
  const startAt = Math.ceil(Date.now() / 1000) + 5;
  const args = (i: number) =>
    ['limit', '--instance', `${i}/2`, '--start-at', String(startAt), '--vary', 'rate', '--from', '300', '--to', '900'].concat([
      '--step-factor',
      '3',
      '--step-hold',
      '5',
      '--settle',
      '1',
      '--json',
    ]);
  const runs = [1, 2].map((i) => startTblab(t, args(i), { cwd, env, timeoutMs: 120_000 }));
  const results = await Promise.all(runs.map((r) => r.done));
  const own = results.map((r, k) => {
    assert.equal(r.code, 0, `instance ${k + 1}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { report: string; limit: LimitVerdict };
  });
  t.diagnostic(
    results[0].stderr
      .split('\n')
      .filter((l) => l.startsWith('limit'))
      .join('\n'),
  );
  // each instance judged its own share: half the load
  assert.deepEqual(
    own[0].limit.steps.map((s) => s.asked),
    [150, 450],
  );

  const merged = await tblab(t, ['report', 'merge', '--json'], { cwd, env });
  assert.equal(merged.code, 0, merged.stderr);
  const m = JSON.parse(merged.stdout) as LimitReport;
  const v = m.limit;
  t.diagnostic(`${Math.round((Date.now() - started) / 1000)} s; ${v.sentence}`);
  assert.equal(m.limitId, 'limit-lim-split-merged');
  assert.deepEqual(m.mergedFrom, ['limit-lim-split-i1of2', 'limit-lim-split-i2of2']);
  assert.deepEqual(
    v.steps.map((s) => [s.asked, s.passed]),
    [
      [300, true],
      [900, false],
    ],
  );
  const shares = own.map((o) => JSON.parse(readFileSync(o.report, 'utf8')) as LimitReport);
  v.steps.forEach((s, k) => {
    const sum = shares[0].limit.steps[k].sentPerSec + shares[1].limit.steps[k].sentPerSec;
    assert.ok(Math.abs(s.sentPerSec - sum) < 0.2, `step ${s.asked}: merged ${s.sentPerSec} msg/s = ${sum} summed`);
    // a passing step reached its load (past the knee QoS 1 in-flight messages hold the sending back)
    if (s.passed) assert.ok(s.sentPerSec >= s.asked * 0.9, `step ${s.asked} reached ${s.sentPerSec} msg/s`);
  });
  assert.equal(v.outcome, 'found');
  assert.equal(v.sustained, 300);
  assert.equal(v.brokeAt, 900);
  assert.equal(v.tier, 'server-saturation');
  assert.match(v.sentence, /sustained 300 msg\/s from 40 devices/);

  // the shares of a step ran in one window: both runs started within the late tolerance of its start
  const stepRun = (k: number, i: number) =>
    JSON.parse(readFileSync(join(cwd, 'data', 'runs', `lim-split-step${k}-i${i}of2.json`), 'utf8')) as RunReport;
  let sent = 0;
  for (let k = 1; k <= 2; k++) {
    const [a, b] = [stepRun(k, 1), stepRun(k, 2)];
    const window = Date.parse(m.instances!.steps[k - 1].startAt);
    for (const r of [a, b]) {
      const late = Date.parse(r.startedAt) - window;
      assert.ok(
        late >= 0 && late < 2000,
        `step ${k} run ${r.runId} started ${late} ms after its window ${m.instances!.steps[k - 1].startAt}`,
      );
    }
    sent += a.metrics.traffic.sent + b.metrics.traffic.sent;
  }
  // every publish either instance sent reached the server: stored (once the queue of the last step
  // is served), or dropped by the full queue
  const stats = await waitFor(
    'the capacity queue to empty',
    async () => {
      const s = await fetchStats(emu.restUrl);
      return s.capacity!.queued === 0 ? s : null;
    },
    10_000,
    200,
  );
  assert.equal(stats.messages + stats.capacity!.dropped, sent);

  // the text form: the step table of the sum
  const text = await tblab(t, ['report', join(cwd, 'data', 'runs', `${m.limitId}.json`)], { cwd, env });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /merged from limit-lim-split-i1of2, limit-lim-split-i2of2/);
});

test('tblab limit --instance without RUN_ID, or with a zone-less start, is refused before anything starts', async (t) => {
  const cwd = tmpDir(t, 'tblab-limit-inst-usage-');
  const base = ['limit', '--vary', 'rate', '--from', '100', '--to', '200', '--instance', '1/2', '--start-at'];
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [[...base, '1796239800'], {}, /CONFIG_INVALID.*needs RUN_ID/s],
    [[...base, '2026-12-02T16:30:00'], { RUN_ID: 'x' }, /LIMIT_START_AT.*with a zone/s],
  ];
  for (const [args, env, re] of cases) {
    const r = await tblab(t, args, { cwd, env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
