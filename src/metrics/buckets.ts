// Cumulative latency buckets for Prometheus histograms: one fixed bucket ladder shared by every
// instance, so `histogram_quantile(0.99, sum by (le) (rate(..._bucket[1m])))` works fleet-wide.
import type { Histogram } from './hdr.js';
import type { JsHistogram } from 'hdr-histogram-js';
import type { CumulativeBuckets } from './snapshot.js';

/**
 * Upper bounds in milliseconds (1-2-5 ladder, 0.5 ms … 60 s). Never change them within a schema
 * version: instances with different ladders cannot be summed by `le`.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000,
];

/**
 * Counts of recorded values ≤ each bound (HDR precision: 3 significant digits). `sumMs` is
 * mean × count, exact to the histogram's precision.
 */
export function cumulativeBuckets(h: Histogram, boundsMs: readonly number[] = LATENCY_BUCKETS_MS): CumulativeBuckets {
  const counts = new Array<number>(boundsMs.length).fill(0);
  const count = h.totalCount;
  if (count > 0) {
    const it = (h as unknown as JsHistogram).recordedValuesIterator;
    it.reset();
    let b = 0;
    let below = 0;
    while (it.hasNext()) {
      const v = it.next();
      // lowest equivalent value: a value recorded exactly on a bound belongs under it
      const ms = (h as unknown as JsHistogram).lowestEquivalentValue(v.valueIteratedTo) / 1000;
      while (b < boundsMs.length && ms > boundsMs[b]) counts[b++] = below;
      below = v.totalCountToThisValue;
    }
    for (; b < boundsMs.length; b++) counts[b] = below;
  }
  return { leMs: [...boundsMs], counts, count, sumMs: count > 0 ? Math.round(h.mean * count) / 1000 : 0 };
}
