import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns, renderComparison, parseBands } from '../../src/report/compare.js';
import { LabError } from '../../src/common/errors.js';
import { makeReport } from '../helpers/report-fixture.js';

const base = makeReport({ runId: 'run-a', devices: 20, durationSec: 30, ackMs: () => 20 });
const row = (c: ReturnType<typeof compareRuns>, m: string) => c.rows.find((r) => r.metric === m)!;

describe('comparing two runs', () => {
  test('a run compared with itself is the same on every judged metric', () => {
    const c = compareRuns(base, base);
    assert.equal(c.verdict, 'same');
    assert.ok(c.rows.every((r) => r.judgement === null || r.judgement === 'same'));
    assert.match(renderComparison(c), /Verdict: same — every judged change is within its noise band/);
  });

  test('higher ack latency beyond the band makes B worse, and the verdict names it', () => {
    const slow = makeReport({ runId: 'run-b', devices: 20, durationSec: 30, ackMs: () => 30 });
    const c = compareRuns(base, slow);
    assert.equal(c.verdict, 'worse');
    assert.equal(row(c, 'ack_p99').judgement, 'worse');
    assert.ok(Math.abs(row(c, 'ack_p99').change! - 0.5) < 0.01);
    assert.match(renderComparison(c), /Verdict: B is worse than A — worse: ack_p50 \+50(\.\d)?% \(band 5%\)/);
  });

  test('a change inside a band the user widened is the same', () => {
    const slower = makeReport({ runId: 'run-b', devices: 20, durationSec: 30, ackMs: () => 21.5 });
    assert.equal(compareRuns(base, slower).verdict, 'worse');
    assert.equal(compareRuns(base, slower, parseBands(['10%'])).verdict, 'same');
    const perMetric = compareRuns(base, slower, parseBands(['ack_p50=2ms', 'ack_p95=10%', 'ack_p99=1.6ms']));
    assert.equal(perMetric.verdict, 'same');
  });

  test('fewer failures and disconnects make B better', () => {
    const bad = makeReport({
      runId: 'run-a',
      devices: 20,
      durationSec: 30,
      ackMs: () => 20,
      failed: { 1: 5 },
      disconnects: { 2: [[5, 'server closed', 'server']] },
    });
    const c = compareRuns(bad, base);
    assert.equal(c.verdict, 'better');
    assert.equal(row(c, 'failed_ratio').judgement, 'better');
    assert.equal(row(c, 'disconnects').judgement, 'better');
  });

  test('a collapse in B is worse whatever the band', () => {
    const collapsed = makeReport({ runId: 'run-b', devices: 20, durationSec: 30, ackMs: () => 20, collapseAtSec: 20 });
    const c = compareRuns(base, collapsed, parseBands(['50%']));
    assert.equal(row(c, 'collapse').judgement, 'worse');
    assert.equal(c.verdict, 'worse');
  });

  test('setup differences are listed as caveats', () => {
    const other = makeReport({ runId: 'run-b', devices: 40, durationSec: 60, intervalSec: 2 });
    const text = renderComparison(compareRuns(base, other));
    assert.match(text, /devices differs: 20 vs 40/);
    assert.match(text, /publish interval \(s\) differs: 1 vs 2/);
    assert.match(text, /duration differs: 30.5s vs 1m 01s/);
  });

  test('metrics neither run measured are left out; one-sided ones show no data', () => {
    const withDelivery = makeReport({ runId: 'run-b', devices: 20, durationSec: 30, ackMs: () => 20, deliveryLost: 0 });
    assert.equal(
      compareRuns(base, base).rows.some((r) => r.metric === 'stored_ratio'),
      false,
    );
    const c = compareRuns(base, withDelivery);
    assert.equal(row(c, 'stored_ratio').a, null);
    assert.equal(row(c, 'stored_ratio').judgement, null);
  });
});

describe('parsing --band', () => {
  const bad: Array<[string, string]> = [
    ['a default band without a percent sign', '5'],
    ['an unknown metric', 'ack_p77=5%'],
    ['milliseconds on a ratio', 'failed_ratio=5ms'],
    ['words', 'loose'],
  ];
  for (const [name, v] of bad) {
    test(`rejects ${name}: ${v}`, () => {
      assert.throws(
        () => parseBands([v]),
        (e: unknown) => e instanceof LabError && e.code === 'USAGE' && e.message.includes(v),
      );
    });
  }
  test('accepts seconds as an absolute duration band', () => {
    assert.deepEqual(parseBands(['connect_p99=1.5s']).perMetric, { connect_p99: { relative: 0, absolute: 1500 } });
  });
});
