// Aligns per-instance time series (report timeline, snapshot series) on the wall-clock second
// and adds them up: instances start and stop at slightly different moments, so points are keyed by `ts`.

/** How each numeric field of a point combines across instances. */
export interface AlignSpec<P> {
  /** Per-second values that add up (rates, connected): 0 outside an instance's span. */
  sum: ReadonlyArray<keyof P>;
  /** Running totals: 0 before an instance's first point, its final value after its last. */
  cumulative: ReadonlyArray<keyof P>;
  /**
   * Per-instance percentiles (p99 of that second): the merged value is the largest. Per-second
   * histograms are not kept, and max(p99ᵢ) is an upper bound of the fleet's p99 — never an average.
   */
  max: ReadonlyArray<keyof P>;
  /**
   * An ordinal text field (a run state): the merged second takes the earliest stage any running
   * instance is in, so the fleet counts as draining only once every instance drains. Optional field.
   */
  least?: { key: string; order: readonly string[] };
}

interface Stamped {
  ts: number;
  t: number;
}

const second = (ts: number) => Math.floor(ts / 1000) * 1000;

/**
 * One point per wall-clock second from the first to the last second any instance covers.
 * Within an instance's span a missing second repeats its previous point (a late tick, not a drop to 0).
 * `startMs` is the merged run's start: `t` is recomputed from it.
 */
export function alignByTs<P extends Stamped>(series: ReadonlyArray<ReadonlyArray<P>>, startMs: number, spec: AlignSpec<P>): P[] {
  const perInstance = series
    .filter((s) => s.length > 0)
    .map((s) => {
      const bySecond = new Map<number, P>();
      for (const p of s) bySecond.set(second(p.ts), p); // later point of the same second wins
      const keys = [...bySecond.keys()].sort((a, b) => a - b);
      return { bySecond, first: keys[0], last: keys[keys.length - 1] };
    });
  if (perInstance.length === 0) return [];
  const from = Math.min(...perInstance.map((s) => s.first));
  const to = Math.max(...perInstance.map((s) => s.last));
  const carried: Array<P | undefined> = perInstance.map(() => undefined);
  const out: P[] = [];
  for (let ts = from; ts <= to; ts += 1000) {
    const point: Record<string, number | null> = { ts, t: Math.max(0, Math.round((ts - startMs) / 100) / 10) };
    for (const k of spec.sum) point[k as string] = 0;
    for (const k of spec.cumulative) point[k as string] = 0;
    for (const k of spec.max) point[k as string] = null;
    const texts: Record<string, string> = {};
    perInstance.forEach((s, i) => {
      const own = s.bySecond.get(ts);
      if (own) carried[i] = own;
      const p = carried[i];
      if (!p) return; // not started yet
      const inSpan = ts <= s.last;
      for (const k of spec.cumulative) point[k as string] = (point[k as string] as number) + (p[k] as number);
      if (!inSpan) return;
      for (const k of spec.sum) point[k as string] = (point[k as string] as number) + (p[k] as number);
      for (const k of spec.max) {
        const v = p[k] as number | null;
        const cur = point[k as string];
        if (v !== null && v !== undefined && (cur === null || v > cur)) point[k as string] = v;
      }
      if (spec.least) {
        const { key, order } = spec.least;
        const v = (p as unknown as Record<string, unknown>)[key];
        const rank = typeof v === 'string' ? order.indexOf(v) : -1;
        if (rank >= 0 && (texts[key] === undefined || rank < order.indexOf(texts[key]))) texts[key] = v as string;
      }
    });
    Object.assign(point, texts);
    out.push(point as unknown as P);
  }
  return out;
}
