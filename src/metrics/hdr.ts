// HDR histogram wrapper: latencies are recorded in microseconds (integers, 3 significant digits)
// and summarised in milliseconds. Shards ship histograms encoded (compressed base64) once per
// snapshot; the supervisor and `report merge` decode and add them — percentiles are never averaged.
import * as hdr from 'hdr-histogram-js';
import { emptyPercentiles, type Percentiles } from './snapshot.js';

export type Histogram = hdr.Histogram;

/** Highest trackable latency: 1 hour in µs. Larger values are clamped (and still counted). */
const HIGHEST_US = 3_600_000_000;

export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/**
 * The counts index of `us` (0 ≤ us < 2^31) in histogram `h`: the library's `countsArrayIndex`
 * with integer bit operations instead of `Math.log2` and two `Math.pow` calls, which are C calls
 * in V8 (~1 % of a shard's samples at 50k msg/s, one record per message; bench/README.md Finding 17).
 * A unit test checks it against `countsArrayIndex` over the whole range.
 */
export function countsIndex(h: hdr.JsHistogram, us: number): number {
  const half = h.subBucketHalfCountMagnitude;
  const unit = h.unitMagnitude;
  const b = Math.max(31 - Math.clz32(us) - half - unit, 0);
  return ((b + 1) << half) + (us >>> (b + unit)) - (1 << half);
}

/** Records a latency given in milliseconds (fractions kept to the µs). Negative values count as 0. */
export function recordMs(h: Histogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (!(us > 0)) us = 0;
  else if (us > HIGHEST_US) us = HIGHEST_US;
  if (us >= 0x80000000) return h.recordValue(us);
  const js = h as unknown as hdr.JsHistogram;
  js.incrementCountAtIndex(countsIndex(js, us));
  js.updateMinAndMax(us);
  js.incrementTotalCount();
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(s, 32, false);
  // re-home into our layout so later add()s never overflow
  const h = createHistogram();
  h.add(decoded);
  return h;
}

/** Adds `src` into `dst` (exact merge). */
export function mergeInto(dst: Histogram, src: Histogram | string | null | undefined): void {
  if (!src) return;
  dst.add(typeof src === 'string' ? decodeHistogram(src) : src);
}

const round3 = (us: number) => Math.round(us) / 1000;

/** The percentiles a summary reports, ascending (0 = min). */
const PCTS = [0, 50, 90, 95, 99, 99.9] as const;

/** hdr-histogram-js's count rank for a percentile (same fp rounding as `getValueAtPercentile`). */
function rankAt(pct: number, total: number): number {
  const fp = (pct / 100) * total;
  return Math.max(Math.ceil(fp - (fp > 0 ? 2 ** (Math.floor(Math.log2(fp)) - 52) : 0)), 1);
}

/**
 * Count, mean and percentiles in one pass over the buckets up to the last recorded value: the
 * library's `mean` walks every bucket with an iterator object and each percentile rescans from 0
 * (~25 % of the supervisor's CPU at 5,000 devices, bench/README.md). Results are identical to
 * `h.mean` / `h.getValueAtPercentile` (unit test).
 */
export function summarize(h: Histogram): Percentiles {
  const count = h.totalCount;
  if (count === 0) return emptyPercentiles();
  const js = h as unknown as hdr.JsHistogram;
  const ranks = PCTS.map((p) => rankAt(p, count));
  const at = new Array<number>(PCTS.length).fill(0);
  let k = 0;
  let seen = 0;
  let total = 0;
  for (let i = 0; i < js.countsArrayLength && seen < count; i++) {
    const c = js.getCountAtIndex(i);
    if (c === 0) continue;
    seen += c;
    const v = js.valueFromIndex(i);
    total += js.medianEquivalentValue(v) * c;
    for (; k < ranks.length && seen >= ranks[k]; k++) at[k] = k === 0 ? js.lowestEquivalentValue(v) : js.highestEquivalentValue(v);
  }
  return {
    count,
    min: round3(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : Math.min(h.minNonZeroValue, at[0])),
    mean: round3(total / count),
    p50: round3(at[1]),
    p90: round3(at[2]),
    p95: round3(at[3]),
    p99: round3(at[4]),
    p999: round3(at[5]),
    max: round3(h.maxValue),
  };
}
