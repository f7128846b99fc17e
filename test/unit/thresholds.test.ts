import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseThreshold,
  parseThresholds,
  evaluateThresholds,
  connectedAfterRamp,
  ThresholdMonitor,
  type Threshold,
} from '../../src/metrics/thresholds.js';
import { THRESHOLD_METRICS } from '../../src/metrics/threshold-metrics.js';
import { evaluateReport } from '../../src/report/thresholds.js';
import { LabError } from '../../src/common/errors.js';
import { makeReport } from '../helpers/report-fixture.js';

describe('parsing thresholds', () => {
  const valid: Array<[string, string, Partial<Threshold>]> = [
    ['a percentile with a millisecond unit', 'ack_p99<200ms', { metric: 'ack_p99', op: '<', coefficient: 200, perDevice: false }],
    ['a bare duration is milliseconds', 'connect_p95 <= 150', { metric: 'connect_p95', op: '<=', coefficient: 150 }],
    ['seconds are converted to milliseconds', 'ack_max<1.5s', { coefficient: 1500 }],
    ['a ratio as a plain fraction', 'failed_ratio<0.001', { metric: 'failed_ratio', coefficient: 0.001 }],
    ['a ratio as a percentage', 'ack_ratio >= 99.9%', { op: '>=', coefficient: 0.999 }],
    ['a share of the configured devices', 'connected_min>=0.99*devices', { metric: 'connected_min', coefficient: 0.99, perDevice: true }],
    ['devices may come first in the product', 'peak_connected == devices * 1', { op: '==', coefficient: 1, perDevice: true }],
    ['k multiplies by a thousand', 'sent>12k', { coefficient: 12_000 }],
    ['M multiplies by a million', 'msg_rate<1.5M', { coefficient: 1_500_000 }],
    ['a flag compares with 0', 'collapse==0', { metric: 'collapse', coefficient: 0 }],
    [
      'blanks around tokens are allowed',
      '  schedule_lag_p99   <   50 ms  ',
      { metric: 'schedule_lag_p99', coefficient: 50, expression: 'schedule_lag_p99   <   50 ms' },
    ],
    ['not-equal is an operator', 'disconnects!=3', { op: '!=' }],
    ['a decimal without a leading digit', 'lost < .5k', { coefficient: 500 }],
  ];
  for (const [name, expr, want] of valid) {
    test(`accepts ${name}: ${expr}`, () => {
      const t = parseThreshold(expr);
      for (const [k, v] of Object.entries(want)) {
        if (typeof v === 'number')
          assert.ok(
            Math.abs((t as unknown as Record<string, number>)[k] - v) < 1e-9,
            `${k}: ${String((t as unknown as Record<string, unknown>)[k])} vs ${v}`,
          );
        else assert.equal((t as unknown as Record<string, unknown>)[k], v);
      }
    });
  }

  const invalid: Array<[string, string, RegExp]> = [
    ['a misspelt metric, suggesting the right one', 'acks_p99<200ms', /unknown metric "acks_p99"; did you mean ack_p99\?/],
    ['an ambiguous typo, suggesting every near name', 'ack_p9<200ms', /did you mean ack_p90 or ack_p95 or ack_p99\?/],
    ['an unknown metric far from every name', 'bananas>1', /unknown metric "bananas" \(the list/],
    ['a missing operator', 'ack_p99 200ms', /expected a comparison/],
    ['a missing value', 'ack_p99<', /expected a duration/],
    ['an unknown unit', 'ack_p99<200mss', /unknown unit "mss"/],
    ['a unit of the wrong kind', 'failed_ratio<5ms', /failed_ratio is a ratio: ms does not apply/],
    ['devices on a duration', 'ack_p99<2*devices', /devices is not allowed/],
    ['devices twice', 'sent>devices*devices', /devices may appear only once/],
    ['a percentage on a count', 'sent>5%', /sent is a count: % does not apply/],
    ['a flag compared with 2', 'collapse<2', /collapse is a flag: expected 0 or 1/],
    ['trailing text', 'ack_p99<200ms and more', /unexpected "a"; expected \* or the end/],
    ['an empty expression', '', /expected a metric name/],
  ];
  for (const [name, expr, msg] of invalid) {
    test(`rejects ${name}: ${JSON.stringify(expr)}`, () => {
      assert.throws(
        () => parseThreshold(expr),
        (e: unknown) => {
          assert.ok(e instanceof LabError);
          assert.equal(e.code, 'THRESHOLDS_INVALID');
          assert.equal(e.exitCode, 2);
          assert.match(e.message, msg);
          assert.match(e.message, /\^ \(column \d+\)/);
          return true;
        },
      );
    });
  }

  test('reports every invalid expression of a list at once', () => {
    assert.throws(
      () => parseThresholds(['ack_p99<200ms', 'ack_p9<1', 'failed_ratio<1ms']),
      (e: unknown) => {
        assert.ok(e instanceof LabError);
        assert.match(e.message, /^2 invalid --threshold expressions:/);
        assert.match(e.message, /ack_p9/);
        assert.match(e.message, /failed_ratio<1ms/);
        return true;
      },
    );
  });

  test('every metric of the table parses with a value fit for its kind', () => {
    const sample = { duration: '10ms', ratio: '0.5', count: '1', rate: '1', flag: '0' } as const;
    for (const [name, def] of Object.entries(THRESHOLD_METRICS)) assert.equal(parseThreshold(`${name}>=${sample[def.kind]}`).metric, name);
  });
});

describe('evaluating thresholds against a report', () => {
  const report = makeReport({ devices: 40, durationSec: 30, ackMs: (i, k) => 10 + ((i + k) % 10), failed: { 3: 2 }, neverConnected: [7] });
  const cases: Array<[string, string, boolean]> = [
    ['passes when p99 latency is under the limit', 'ack_p99<200ms', true],
    ['fails when p99 latency is over the limit', 'ack_p99<5ms', false],
    ['passes a failure ratio that is low enough', 'failed_ratio<0.01', true],
    ['fails a failure ratio of zero tolerance', 'failed_ratio==0', false],
    ['scales a connected share with the configured devices', 'connected_min>=0.95*devices', true],
    ['fails when every device had to stay connected but one never did', 'connected_min>=devices', false],
    ['passes no collapse', 'collapse==0', true],
    ['fails a delivery metric when the run was not reconciled', 'stored_ratio>0.99', false],
    ['reads the average message rate', 'msg_rate>30', true],
  ];
  for (const [name, expr, ok] of cases) {
    test(`${name}: ${expr}`, () => {
      const [r] = evaluateReport([parseThreshold(expr)], report);
      assert.equal(r.ok, ok, r.message);
      assert.equal(r.expression, expr);
    });
  }

  test('a result carries the measured value, the limit and a readable message', () => {
    const [r] = evaluateReport([parseThreshold('connected_min>=0.99*devices')], report);
    assert.equal(r.actual, 39);
    assert.ok(Math.abs(r.limit - 39.6) < 1e-9);
    assert.equal(r.message, 'connected_min = 39, required >= 39.6 (0.99×40 devices)');
  });

  test('no data fails and says so', () => {
    const [r] = evaluateReport([parseThreshold('lost<1')], report);
    assert.equal(r.ok, false);
    assert.equal(r.actual, null);
    assert.match(r.message, /no data/);
  });

  test('delivery metrics read the delivery check when present', () => {
    const rep = makeReport({ devices: 10, durationSec: 10, deliveryLost: 3 });
    const [a, b] = evaluateReport([parseThreshold('lost<=3'), parseThreshold('stored_ratio>=99.9%')], rep);
    assert.equal(a.ok, true);
    assert.equal(b.ok, false);
  });
});

describe('connected_min after ramp-up', () => {
  test('starts when every device is connected', () => {
    assert.equal(connectedAfterRamp([{ connected: 1 }, { connected: 5 }, { connected: 10 }, { connected: 9 }, { connected: 10 }], 10), 9);
  });
  test('starts at the first peak when the fleet never fully connected', () => {
    assert.equal(connectedAfterRamp([{ connected: 2 }, { connected: 8 }, { connected: 4 }, { connected: 8 }], 10), 4);
  });
  test('is null for an empty timeline', () => {
    assert.equal(connectedAfterRamp([], 10), null);
  });
});

describe('live monitoring with --abort-on-fail', () => {
  const snap = (elapsedSec: number, over: { connected?: number; sent?: number; failed?: number }) => {
    const s = structuredClone(makeReport({ devices: 10, durationSec: 5 }).metrics);
    s.elapsedSec = elapsedSec;
    s.connections.connected = over.connected ?? 10;
    s.traffic.sent = over.sent ?? 100;
    s.traffic.failed = over.failed ?? 0;
    return s;
  };
  test('does not abort during the grace period', () => {
    const m = new ThresholdMonitor(parseThresholds(['failed<1']), { abortOnFail: true, graceSec: 10 });
    m.evaluate(snap(5, { failed: 3 }));
    assert.deepEqual(m.abortReasons(5), []);
  });
  test('aborts after the grace period on a count that already broke its upper bound', () => {
    const m = new ThresholdMonitor(parseThresholds(['failed<1', 'ack_p99<10s']), { abortOnFail: true, graceSec: 10 });
    m.evaluate(snap(12, { failed: 3 }));
    assert.deepEqual(
      m.abortReasons(12).map((r) => r.expression),
      ['failed<1'],
    );
  });
  test('does not abort on a growing count that can still reach its lower bound', () => {
    const m = new ThresholdMonitor(parseThresholds(['sent>1M']), { abortOnFail: true, graceSec: 0 });
    m.evaluate(snap(12, {}));
    assert.deepEqual(m.abortReasons(12), []);
  });
  test('remembers the lowest connected count across snapshots', () => {
    const m = new ThresholdMonitor(parseThresholds(['connected_min>=0.9*devices']), { abortOnFail: true, graceSec: 0 });
    m.evaluate(snap(1, { connected: 10 }));
    m.evaluate(snap(2, { connected: 6 }));
    const [r] = m.evaluate(snap(3, { connected: 10 }));
    assert.equal(r.actual, 6);
    assert.equal(m.abortReasons(3).length, 1);
  });
  test('never aborts without --abort-on-fail', () => {
    const m = new ThresholdMonitor(parseThresholds(['failed<1']));
    const [r] = m.evaluate(snap(100, { failed: 3 }));
    assert.equal(r.ok, false);
    assert.deepEqual(m.abortReasons(100), []);
  });
  test('evaluateThresholds works on a bare snapshot', () => {
    const [r] = evaluateThresholds(parseThresholds(['sent>=100']), {
      snapshot: snap(1, { sent: 100 }),
      elapsedSec: 1,
      connectedMin: null,
      connectedFinal: 10,
      delivery: null,
    });
    assert.equal(r.ok, true);
  });
});
