// Calendar bucket ends for aggregated time series, as ThingsBoard computes them in
// dao/src/main/java/org/thingsboard/server/dao/util/TimeUtils.java `calculateIntervalEnd`:
// local midnight (in the query's time zone) of the next week (Sunday or ISO Monday start), month or quarter.

export type IntervalType = 'MILLISECONDS' | 'WEEK' | 'WEEK_ISO' | 'MONTH' | 'QUARTER';
export const INTERVAL_TYPES: readonly IntervalType[] = ['MILLISECONDS', 'WEEK', 'WEEK_ISO', 'MONTH', 'QUARTER'];

const DAY = 86_400_000;
/** The nominal length ThingsBoard validates calendar queries with (`AggregationParams.getInterval`). */
export const NOMINAL_MS: Record<IntervalType, number> = {
  MILLISECONDS: 0,
  WEEK: 7 * DAY,
  WEEK_ISO: 7 * DAY,
  MONTH: 30 * DAY,
  QUARTER: 90 * DAY,
};

const formats = new Map<string, Intl.DateTimeFormat>();

/** The zone ThingsBoard would use: the given id when valid, else the system default (`AggregationParams.getZoneId`). */
export function resolveZone(tz: string | undefined): string {
  if (tz) {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
      // unknown zone: ThingsBoard logs and falls back to the default
    }
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Local wall-clock fields of `ts` in `tz`, as a UTC-based ms value (offset removed). */
function localMs(ts: number, tz: string): number {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(ts)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (((ts % 1000) + 1000) % 1000);
}

/** Epoch ms of local midnight of the UTC-based calendar date `localDay` (ms at 00:00) in `tz`. */
function midnight(localDay: number, tz: string): number {
  let guess = localDay - (localMs(localDay, tz) - localDay);
  guess = localDay - (localMs(guess, tz) - guess);
  return guess;
}

/** End of the calendar bucket that starts at `startTs` (exclusive), epoch ms. */
export function intervalEnd(startTs: number, type: Exclude<IntervalType, 'MILLISECONDS'>, tz: string): number {
  const local = localMs(startTs, tz);
  const day = local - (((local % DAY) + DAY) % DAY);
  const d = new Date(day);
  let next: number;
  if (type === 'WEEK') next = day - d.getUTCDay() * DAY + 7 * DAY;
  else if (type === 'WEEK_ISO') next = day - ((d.getUTCDay() + 6) % 7) * DAY + 7 * DAY;
  else if (type === 'MONTH') next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  else next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (d.getUTCMonth() % 3) + 3, 1);
  return midnight(next, tz);
}

/**
 * Bucket bounds [b0 = startTs, b1, …, bn = max(startTs + 1, endTs)], as
 * AbstractChunkedAggregationTimeseriesDao.findAllAsync walks them.
 */
export function bucketBounds(startTs: number, endTs: number, type: IntervalType, interval: number, tz: string): number[] {
  const endPeriod = Math.max(startTs + 1, endTs);
  const out = [startTs];
  for (let from = startTs; from < endPeriod;) {
    const to = Math.min(type === 'MILLISECONDS' ? from + interval : intervalEnd(from, type, tz), endPeriod);
    out.push(to);
    from = to;
  }
  return out;
}
