import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHistogram, recordMs, summarize, encodeHistogram, decodeHistogram, type Histogram } from '../../src/metrics/hdr.js';

/** The library's own (slow) answers, summarised the way `summarize` did before its one-pass rewrite. */
function reference(h: Histogram) {
  const r = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    min: r(Math.min(h.minNonZeroValue, h.getValueAtPercentile(0))),
    mean: r(h.mean),
    p50: r(h.getValueAtPercentile(50)),
    p90: r(h.getValueAtPercentile(90)),
    p95: r(h.getValueAtPercentile(95)),
    p99: r(h.getValueAtPercentile(99)),
    p999: r(h.getValueAtPercentile(99.9)),
    max: r(h.maxValue),
  };
}

test('summarize (one pass) equals the library mean and percentiles exactly', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const shapes: Array<() => number> = [
    () => rnd() * 5, // sub-5 ms
    () => -Math.log(1 - rnd()) * 40, // exponential, long tail
    () => (rnd() < 0.99 ? 1 + rnd() : 2000 + rnd() * 60_000), // bimodal with outliers
    () => 0, // zeros only
  ];
  for (const shape of shapes) {
    for (const n of [1, 2, 7, 1000, 20_000]) {
      const h = createHistogram();
      for (let i = 0; i < n; i++) recordMs(h, shape());
      assert.deepEqual(summarize(h), reference(h), `n=${n}`);
      // and after a decode (the supervisor's merged histograms)
      const d = decodeHistogram(encodeHistogram(h));
      assert.deepEqual(summarize(d), reference(d));
    }
  }
  assert.equal(summarize(createHistogram()).count, 0);
});
