// `tblab limit --embedded --emulator-capacity`: the real CLI against its own emulator modelling a
// saturating server finds the capacity, writes the limit report, and `report`/`compare` read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import type { LimitReport } from '../../src/lab/limit/report.js';
import type { LimitVerdict } from '../../src/lab/limit/types.js';

// 400 msg/s passes well inside the capacity, 450 and up are past it (a step right at the capacity is a
// coin toss on a short hold: its backlog neither clearly grows nor stays flat)
const CAPACITY = 440;

test(
  'tblab limit --embedded finds an emulator capacity of 440 msg/s within 15 %; report and compare read it',
  { timeout: 400_000 },
  async (t) => {
    const cwd = tmpDir(t, 'tblab-limit-');
    const env = { DEVICE_COUNT: '40', SHARDS: '1', DASHBOARD: '0', CONNECT_RATE: '0', DELIVERY_SETTLE_SEC: '2', LATENCY_SAMPLE: '5' };
    // short holds and a coarse resolution keep it to about six steps: 200, 400, 800, 600, 500, 450
    const args = [
      'limit',
      '--embedded',
      '--emulator-capacity',
      String(CAPACITY),
      '--vary',
      'rate',
      '--from',
      '200',
      '--to',
      '800',
      '--resolution',
      '15%',
      '--step-hold',
      '6',
      '--settle',
      '1',
      '--json',
    ];
    const started = Date.now();
    const r = await tblab(t, args, { cwd, env, timeoutMs: 380_000 });
    t.diagnostic(
      `${Math.round((Date.now() - started) / 1000)} s\n${r.stderr
        .split('\n')
        .filter((l) => l.startsWith('limit'))
        .join('\n')}`,
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { report: string; aborted: boolean; limit: LimitVerdict };
    const v = out.limit;
    t.diagnostic(v.sentence);
    assert.equal(v.outcome, 'found');
    assert.equal(out.aborted, false);
    assert.ok(Math.abs(v.sustainedPerSec! - CAPACITY) <= CAPACITY * 0.15, `sustained ${v.sustainedPerSec} msg/s vs capacity ${CAPACITY}`);
    assert.ok(v.brokeAt! > v.sustained!, `broke at ${v.brokeAt} above ${v.sustained}`);
    assert.equal(typeof v.firstBroken, 'string');
    assert.equal(v.tier, 'server-saturation');
    assert.ok(v.steps.length >= 4, `${v.steps.length} steps`);
    for (const s of v.steps) {
      assert.equal(typeof s.asked, 'number');
      assert.equal(typeof s.reached, 'number');
      assert.ok(s.objectives.length >= 5 && s.objectives.every((o) => ['pass', 'fail', 'no-data'].includes(o.verdict)));
    }
    assert.equal(v.steps.find((s) => s.asked === v.sustained)?.passed, true);

    // the limit report on file holds the same verdict and names the steps' own run reports
    const file = JSON.parse(readFileSync(out.report, 'utf8')) as LimitReport;
    assert.equal(file.kind, 'limit');
    assert.deepEqual(
      file.limit.steps.map((s) => s.asked),
      v.steps.map((s) => s.asked),
    );
    assert.equal(file.stepRuns.length, v.steps.length, 'one run report per step');
    assert.equal(file.setup.devices, 40);

    // ThingsBoard's own statistics (the embedded emulator's 2 s windows): a triage tier per step, and
    // the one of the step that broke in the verdict
    assert.ok(
      v.steps.every((s) => s.measurement.server && s.measurement.server.evidence.length > 0),
      'every step has a triage',
    );
    const broke = v.steps.find((s) => s.asked === v.brokeAt && !s.retried)!;
    assert.equal(v.server?.step, broke.index);
    assert.equal(v.server?.tier, broke.measurement.server!.tier);
    assert.match(v.sentence, /; ThingsBoard's own statistics there: [a-z-]+ \(/);
    assert.match(r.stderr, /limit: ThingsBoard verdict: [a-z-]+ — /);

    const rep = await tblab(t, ['report', out.report], { cwd, env });
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stdout, /asked msg\/s/);
    assert.match(rep.stdout, /verdict\s+ThingsBoard\n/, 'the step table has the triage column');
    assert.ok(
      rep.stdout.includes(
        `ThingsBoard's own statistics at ${v.brokeAt!.toLocaleString('en-US')} msg/s (step ${broke.index + 1}): ${v.server!.tier} (`,
      ),
    );
    for (const e of v.server!.evidence) assert.ok(rep.stdout.includes(`\n  ${e}\n`), `evidence line ${e}`);
    assert.equal(rep.stdout.split('\n').filter((l) => /^\s*\d+\s+(climb|bisect)\s/.test(l)).length, v.steps.length, rep.stdout);
    assert.ok(rep.stdout.includes(v.sentence), 'the verdict sentence');

    const cmp = await tblab(t, ['compare', out.report, out.report, '--json'], { cwd, env });
    assert.equal(cmp.code, 0, cmp.stderr);
    const c = JSON.parse(cmp.stdout) as { moved: string; change: number };
    assert.equal(c.moved, 'same');
    assert.equal(c.change, 0);
  },
);

test(
  "tblab limit --shards 1 at a rate far above one shard: the limit is the lab's (tier generator), with the remedy; exit 6",
  { timeout: 120_000 },
  async (t) => {
    const cwd = tmpDir(t, 'tblab-limit-starved-');
    // one shard sends some 100,000 msg/s at QoS 0 on two cores (bench/README.md B4); 1,000,000 msg/s is far beyond it
    const env = { DEVICE_COUNT: '100', DASHBOARD: '0', CONNECT_RATE: '0', DELIVERY_CHECK: '0', SERVER_STATS: '0' };
    const args = ['limit', '--embedded', '--shards', '1', '--qos', '0', '--vary', 'rate', '--from', '1000000', '--to', '2000000'];
    const started = Date.now();
    const r = await tblab(t, [...args, '--step-hold', '3', '--settle', '0', '--json'], { cwd, env, timeoutMs: 100_000 });
    t.diagnostic(`${Math.round((Date.now() - started) / 1000)} s`);
    assert.equal(r.code, 6, r.stderr);
    const v = (JSON.parse(r.stdout) as { limit: LimitVerdict }).limit;
    t.diagnostic(v.sentence);
    assert.equal(v.outcome, 'lab-limit');
    assert.equal(v.tier, 'generator');
    assert.ok(['generator_ok', 'reached_ratio'].includes(v.firstBroken!), `first broken ${v.firstBroken}`);
    assert.equal(v.steps.length, 1, "the search stops at the lab's limit");
    const m = v.steps[0].measurement;
    // sent far less than scheduled while behind (cpu), or so far behind that its schedule lag passed 1 s
    assert.ok(['cpu', 'schedule-lag'].includes(m.generator.shortfall!), `shortfall ${m.generator.shortfall}`);
    assert.notEqual(m.generator.verdict, 'ok');
    assert.ok(m.sentPerSec < 0.9 * 1_000_000, `sent ${m.sentPerSec} msg/s`);
    assert.match(
      v.sentence,
      /^the lab could not produce 1,000,000 msg\/s \((sent [\d,]+ of [\d,]+ msg\/s scheduled, generator (lagging|overloaded)|schedule lag p99 [\d.]+ ms)/,
    );
    assert.match(v.sentence, /this is the lab's limit, not the server's/);
    assert.match(v.remedy!, /SHARDS/);
    assert.equal(v.sustained, null, 'no ThingsBoard figure from a starved generator');
  },
);

test('tblab limit: bad flags are USAGE errors naming the flag, before anything starts', { timeout: 60_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-limit-usage-');
  const bad = await tblab(t, ['limit', '--vary', 'rate', '--from', '500', '--to', '100'], { cwd });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /USAGE.*--to must be above --from/s);
  const res = await tblab(t, ['limit', '--vary', 'rate', '--from', '100', '--to', '500', '--resolution', 'x'], { cwd });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--resolution/);
  const slo = await tblab(t, ['limit', '--vary', 'rate', '--from', '100', '--to', '500', '--slo', 'devices > 1'], { cwd });
  assert.equal(slo.code, 2);
  assert.match(slo.stderr, /THRESHOLDS_INVALID/);
  assert.doesNotMatch(bad.stderr + res.stderr + slo.stderr, /\n\s+at /, 'no stack trace');
});

test('tblab suite --embedded --limit: a range the server carries whole is exit 8 (limit above --to)', { timeout: 200_000 }, async (t) => {
  const cwd = tmpDir(t, 'tblab-suite-limit-');
  // no ThingsBoard statistics: each step would wait one 5 s window + 2 s for them, and this test is about the exit code
  const env = {
    DEVICE_COUNT: '20',
    SHARDS: '1',
    DASHBOARD: '0',
    CONNECT_RATE: '0',
    DELIVERY_SETTLE_SEC: '1',
    LATENCY_SAMPLE: '0',
    SERVER_STATS: '0',
  };
  // no --step-hold in the suite: the default (at least 20 s) holds each of the two steps
  const r = await tblab(t, ['suite', '--embedded', '--limit', 'rate:50-100', '--json'], { cwd, env, timeoutMs: 180_000 });
  assert.equal(r.code, 8, r.stderr);
  const out = JSON.parse(r.stdout) as { limit: LimitVerdict };
  assert.equal(out.limit.outcome, 'above-range');
  assert.deepEqual(
    out.limit.steps.map((s) => [s.asked, s.passed]),
    [
      [50, true],
      [100, true],
    ],
  );
  assert.ok(
    out.limit.steps.every((s) => s.holdSec >= 15),
    'default holds',
  );
  assert.match(out.limit.sentence, /the limit is above --to/);
  const bad = await tblab(t, ['suite', '--limit', 'speed:1-2'], { cwd, env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--limit expects/);
});
