// Time-series read-back with ThingsBoard's semantics (docs/thingsboard-behaviour.md#reading-time-series): latest or history,
// half-open [startTs, endTs), string values, empty keys omitted, bucketed aggregation ≤ 700 buckets.
import { PlainError, type Device } from './model.js';
import type { Store } from './store.js';
import { bucketBounds, NOMINAL_MS, resolveZone, type IntervalType } from './calendar.js';

export type Agg = 'NONE' | 'MIN' | 'MAX' | 'AVG' | 'SUM' | 'COUNT';

export interface TsQuery {
  keys?: string[];
  startTs?: number;
  endTs?: number;
  /** Bucket size, ms; 0 = no aggregation whatever `agg` says (MILLISECONDS buckets only). */
  interval: number;
  /** MILLISECONDS (default: fixed `interval`) or calendar buckets in `timeZone`. */
  intervalType?: IntervalType;
  /** Zone id of calendar buckets (default and fallback: the system's zone, as ThingsBoard). */
  timeZone?: string;
  agg: Agg;
  /** Raw points per key when not aggregating (ThingsBoard default 100). */
  limit: number;
  orderBy: 'ASC' | 'DESC';
  useStrictDataTypes: boolean;
}

export type TsPoint = { ts: number; value: unknown };

const MAX_INTERVALS = 700;

export function formatValue(v: unknown, strict: boolean): unknown {
  if (strict) return v;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function aggregate(agg: Exclude<Agg, 'NONE' | 'COUNT'>, values: unknown[]): number | undefined {
  const nums = values.map(Number).filter((n) => Number.isFinite(n));
  if (nums.length === 0) return undefined;
  if (agg === 'MIN') return Math.min(...nums);
  if (agg === 'MAX') return Math.max(...nums);
  const sum = nums.reduce((a, b) => a + b, 0);
  return agg === 'SUM' ? sum : sum / nums.length;
}

/** Reads the device's time series; throws PlainError (400 text) like ThingsBoard on bad ranges. */
export function readTimeseries(store: Store, d: Device, q: TsQuery): Record<string, TsPoint[]> {
  const out: Record<string, TsPoint[]> = {};
  if (q.startTs === undefined || q.endTs === undefined) {
    for (const [k, p] of store.latest(d, q.keys)) out[k] = [{ ts: p.ts, value: formatValue(p.value, q.useStrictDataTypes) }];
    return out;
  }
  const { startTs, endTs } = q;
  const keys = q.keys ?? [...store.latest(d).keys()];
  // DefaultTbTelemetryService.getTimeseries: a calendar intervalType aggregates whatever `interval` says
  const calendar = q.intervalType !== undefined && q.intervalType !== 'MILLISECONDS';
  const aggregating = q.agg !== 'NONE' && (calendar || q.interval > 0);
  if (!aggregating) {
    const dir = q.orderBy === 'ASC' ? 1 : -1;
    for (const key of keys) {
      const points = d.state.history.recent(key, startTs, endTs);
      if (dir === 1) points.reverse();
      if (points.length) out[key] = points.slice(0, q.limit).map((p) => ({ ts: p.ts, value: formatValue(p.value, q.useStrictDataTypes) }));
    }
    return out;
  }
  const step = calendar ? NOMINAL_MS[q.intervalType!] : q.interval;
  const buckets = Math.floor((endTs - startTs) / Math.max(step, 1000));
  if (buckets > MAX_INTERVALS) {
    throw new PlainError(
      400,
      `Incorrect TsKvQuery. Number of intervals is to high - ${buckets}. ` +
        "Please increase 'interval' parameter for your query or reduce the time range of the query.",
    );
  }
  const type = calendar ? q.intervalType! : 'MILLISECONDS';
  const bounds = bucketBounds(startTs, endTs, type, q.interval, calendar ? resolveZone(q.timeZone) : 'UTC');
  const bucketOf = (ts: number) => bucketIndex(bounds, ts);
  const mid = (b: number) => bounds[b] + Math.floor((bounds[b + 1] - bounds[b]) / 2);
  for (const key of keys) {
    const points: TsPoint[] = [];
    if (q.agg === 'COUNT') {
      const counts = d.state.history.countBuckets(key, store.keysets.containing(key), startTs, endTs, bucketOf);
      for (const [b, n] of counts) points.push({ ts: mid(b), value: q.useStrictDataTypes ? n : String(n) });
    } else {
      const byBucket = new Map<number, unknown[]>();
      for (const p of d.state.history.recent(key, startTs, endTs)) {
        const b = bucketOf(p.ts);
        const list = byBucket.get(b);
        if (list) list.push(p.value);
        else byBucket.set(b, [p.value]);
      }
      for (const [b, vals] of byBucket) {
        const v = aggregate(q.agg as 'MIN' | 'MAX' | 'AVG' | 'SUM', vals);
        if (v !== undefined) points.push({ ts: mid(b), value: formatValue(v, q.useStrictDataTypes) });
      }
    }
    // AbstractChunkedAggregationTimeseriesDao.findAllAsync: buckets come back oldest first, whatever orderBy says
    points.sort((a, b) => a.ts - b.ts);
    if (points.length) out[key] = points;
  }
  return out;
}

/** Index of the bucket [bounds[i], bounds[i + 1]) holding `ts` (binary search). */
function bucketIndex(bounds: number[], ts: number): number {
  let lo = 0;
  let hi = bounds.length - 2;
  while (lo < hi) {
    const m = (lo + hi + 1) >> 1;
    if (bounds[m] <= ts) lo = m;
    else hi = m - 1;
  }
  return lo;
}
