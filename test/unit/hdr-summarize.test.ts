import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsHistogram } from 'hdr-histogram-js';
import {
  createHistogram,
  recordMs,
  summarize,
  encodeHistogram,
  decodeHistogram,
  countsIndex,
  type Histogram,
} from '../../src/metrics/hdr.js';

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
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
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

test('recordMs: the bit-operation counts index equals the library index, and recording matches recordValue', () => {
  const h = createHistogram() as unknown as JsHistogram;
  // every value below 2^16, then every power of two and its neighbours up to 2^31, then a sweep
  const values: number[] = [];
  for (let v = 0; v < 1 << 16; v++) values.push(v);
  for (let e = 16; e < 31; e++) for (const d of [-1, 0, 1]) values.push(2 ** e + d);
  for (let v = 1 << 16; v < 2 ** 31; v = Math.floor(v * 1.0007) + 1) values.push(v);
  values.push(2 ** 31 - 1);
  for (const v of values)
    if (countsIndex(h, v) !== h.countsArrayIndex(v)) assert.fail(`index of ${v}: ${countsIndex(h, v)} vs ${h.countsArrayIndex(v)}`);
  // a histogram filled by recordMs equals one filled by the library's recordValue
  const a = createHistogram();
  const b = createHistogram();
  let seed = 3;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let k = 0; k < 50_000; k++) {
    const ms = k % 1000 === 0 ? 3_000_000 + rnd() * 1e6 : -Math.log(1 - rnd()) * 30; // long tail, some above 2^31 µs
    recordMs(a, ms);
    b.recordValue(Math.min(Math.max(Math.round(ms * 1000), 0), 3_600_000_000));
  }
  recordMs(a, -5);
  b.recordValue(0);
  assert.equal(encodeHistogram(a), encodeHistogram(b));
  assert.deepEqual(summarize(a), summarize(b));
  assert.equal(a.totalCount, 50_001);
});
