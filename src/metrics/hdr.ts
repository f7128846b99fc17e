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

/** Records a latency given in milliseconds (fractions kept to the µs). Negative values count as 0. */
export function recordMs(h: Histogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (!(us > 0)) us = 0;
  else if (us > HIGHEST_US) us = HIGHEST_US;
  h.recordValue(us);
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

export function summarize(h: Histogram): Percentiles {
  const count = h.totalCount;
  if (count === 0) return emptyPercentiles();
  return {
    count,
    min: round3(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : Math.min(h.minNonZeroValue, h.getValueAtPercentile(0))),
    mean: round3(h.mean),
    p50: round3(h.getValueAtPercentile(50)),
    p90: round3(h.getValueAtPercentile(90)),
    p95: round3(h.getValueAtPercentile(95)),
    p99: round3(h.getValueAtPercentile(99)),
    p999: round3(h.getValueAtPercentile(99.9)),
    max: round3(h.maxValue),
  };
}
