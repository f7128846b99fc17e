// Cumulative latency buckets for Prometheus histograms: one fixed bucket ladder shared by every
// instance, so `histogram_quantile(0.99, sum by (le) (rate(..._bucket[1m])))` works fleet-wide.
import type { Histogram } from './hdr.js';
import type { JsHistogram } from 'hdr-histogram-js';
import type { CumulativeBuckets } from './snapshot.js';

/**
 * Upper bounds in milliseconds (1-2-5 ladder, 0.5 ms … 60 s). Never change them within a schema
 * version: instances with different ladders cannot be summed by `le`.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000];

/**
 * Counts of recorded values ≤ each bound (HDR precision: 3 significant digits). `sumMs` is
 * mean × count, exact to the histogram's precision. One pass over the counts array: the library's
 * iterator and `mean` were ~2 % of the supervisor's time rebuilding these every second (B1 profile).
 */
export function cumulativeBuckets(h: Histogram, boundsMs: readonly number[] = LATENCY_BUCKETS_MS): CumulativeBuckets {
  const counts = new Array<number>(boundsMs.length).fill(0);
  const count = h.totalCount;
  let total = 0;
  if (count > 0) {
    const js = h as unknown as JsHistogram;
    let b = 0;
    let below = 0;
    for (let i = 0; i < js.countsArrayLength && below < count; i++) {
      const c = js.getCountAtIndex(i);
      if (c === 0) continue;
      const v = js.valueFromIndex(i);
      // lowest equivalent value: a value recorded exactly on a bound belongs under it
      const ms = js.lowestEquivalentValue(v) / 1000;
      while (b < boundsMs.length && ms > boundsMs[b]) counts[b++] = below;
      below += c;
      total += js.medianEquivalentValue(v) * c;
    }
    for (; b < boundsMs.length; b++) counts[b] = below;
  }
  return { leMs: [...boundsMs], counts, count, sumMs: Math.round(total) / 1000 };
}
