// Pure parts of the limit command: flag parsing, the knee of the live view, and compare of two searches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResolution } from '../../src/lab/limit/command.js';
import { parseLimitSpec } from '../../src/cli/commands/limit.js';
import { kneeOf, type LimitPoint } from '../../src/lab/limit/dashboard.js';
import { compareLimits, type LimitReport } from '../../src/lab/limit/report.js';
import { LabError } from '../../src/common/errors.js';

test('--resolution takes 5%, 0.05 and 5; anything else is USAGE naming the flag', () => {
  assert.equal(parseResolution('5%'), 0.05);
  assert.equal(parseResolution('0.05'), 0.05);
  assert.equal(parseResolution('5'), 0.05);
  assert.throws(
    () => parseResolution('five'),
    (e: unknown) => e instanceof LabError && e.code === 'USAGE' && /--resolution/.test(e.message),
  );
  assert.throws(() => parseResolution('-1%'), LabError);
});

test('suite --limit spec: <vary>:<from>-<to>', () => {
  assert.deepEqual(parseLimitSpec('rate:500-20000'), { vary: 'rate', from: 500, to: 20000 });
  assert.deepEqual(parseLimitSpec('connect-rate:10-80'), { vary: 'connect-rate', from: 10, to: 80 });
  assert.throws(
    () => parseLimitSpec('rate:500'),
    (e: unknown) => e instanceof LabError && e.code === 'USAGE',
  );
});

const pt = (index: number, asked: number, passed: boolean, extra: Partial<LimitPoint> = {}): LimitPoint => ({
  index,
  phase: 'climb',
  asked,
  reached: asked,
  sentPerSec: asked * 0.98,
  passed,
  retried: false,
  tier: passed ? null : 'server-saturation',
  ackP50Ms: 1,
  ackP99Ms: 2,
  lost: 0,
  failed: [],
  ...extra,
});

test('the knee lies between the highest passing and the lowest failing counted step above it', () => {
  assert.equal(kneeOf([pt(0, 100, true), pt(1, 200, true)]), null, 'nothing failed yet');
  assert.equal(kneeOf([pt(0, 100, false)]), null, 'nothing passed');
  const k = kneeOf([pt(0, 100, true), pt(1, 200, true), pt(2, 400, false), pt(3, 300, false, { retried: true }), pt(4, 300, true)]);
  assert.deepEqual(k, { goodPerSec: 294, badPerSec: 392, goodAsked: 300, badAsked: 400 });
});

function limitReport(id: string, perSec: number | null, resolution = 0.05, firstBroken = 'ack_p99'): LimitReport {
  return {
    tool: 'tb-load-lab',
    kind: 'limit',
    schemaVersion: 1,
    limitId: id,
    startedAt: '',
    endedAt: '',
    aborted: false,
    target: { tbUrl: '', mqtt: '', embedded: true },
    setup: { devices: 1, qos: 1, shards: 1, publishIntervalSec: 1, connectRate: 0 },
    stepRuns: [],
    limit: {
      vary: 'rate',
      unit: 'msg/s',
      outcome: perSec === null ? 'below-range' : 'found',
      sustained: perSec,
      sustainedPerSec: perSec,
      brokeAt: null,
      firstBroken,
      tier: 'server-saturation',
      rateLimit: null,
      firstSignAt: null,
      resolution,
      slo: [],
      steps: [],
      sentence: '',
      remedy: null,
      exitCode: 0,
    },
  };
}

test('compare of two searches: moved up/down beyond the coarser resolution, else same', () => {
  assert.equal(compareLimits(limitReport('a', 1000), limitReport('b', 1200)).moved, 'up');
  assert.equal(compareLimits(limitReport('a', 1000), limitReport('b', 800)).moved, 'down');
  const same = compareLimits(limitReport('a', 1000, 0.05), limitReport('b', 1080, 0.1));
  assert.equal(same.moved, 'same');
  assert.ok(Math.abs(same.change! - 0.08) < 1e-9);
  assert.match(same.sentence, /1,000 → 1,080 msg\/s sustained \(\+8\.0 %\).*both broke on ack_p99/);
  const other = compareLimits(limitReport('a', 1000), limitReport('b', null, 0.05, 'lost'));
  assert.equal(other.moved, 'unknown');
  assert.match(other.sentence, /ack_p99 \(server-saturation\) → lost/);
});
