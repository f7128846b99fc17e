// The supervisor's side of the workloads' stats channel (src/metrics/workload-stats.ts): adds up
// each shard's latest share of every workload into `workloads.<name>` of the merged snapshot:
// counters summed over the shards, rates over whole seconds of each shard's own clock (as
// rates.ts does for the traffic), histograms merged exactly (never averaged), and a short series
// per workload for the dashboard's chart. Kept apart from aggregate.ts, which merges the rows.
import { createHistogram, decodeHistogram, encodeHistogram, summarize, type Histogram } from '../metrics/hdr.js';
import {
  PRIMARY_HISTOGRAM,
  WORKLOAD_STATS,
  type WorkloadSeriesPoint,
  type WorkloadStatsPart,
  type WorkloadSummary,
} from '../metrics/workload-stats.js';
import { WORKLOAD_NAMES, isWorkloadName } from '../common/workloads.js';
import { MIN_RATE_INTERVAL_MS, round1 } from './rates.js';

const SERIES_POINTS = 60;

interface ShardShare {
  /** Its latest share of each workload (cumulative counters). */
  parts: Record<string, WorkloadStatsPart>;
  /** Counters at the start of its current whole second, and its last whole-second rates. */
  base: { at: number; counters: Record<string, Record<string, number>> };
  rates: Record<string, Record<string, number>>;
  crashed: boolean;
}

const isGauge = (name: string, counter: string): boolean => isWorkloadName(name) && WORKLOAD_STATS[name].counters[counter]?.gauge === true;

/** Workload names in registry order (unknown names after, as they came). */
const ordered = (names: Iterable<string>): string[] => {
  const all = [...names];
  return [...WORKLOAD_NAMES.filter((n) => all.includes(n)), ...all.filter((n) => !isWorkloadName(n))];
};

export class WorkloadAccumulator {
  private readonly shards: ShardShare[];
  /** Workload → histogram name → cumulative histogram of the run. */
  private readonly hist = new Map<string, Map<string, Histogram>>();
  /** Workload → its primary histogram of the current second (for the series). */
  private readonly sec = new Map<string, Histogram>();
  private readonly series = new Map<string, WorkloadSeriesPoint[]>();
  /** Workload → the earliest first call of any shard (workloads that report `firstAt`). */
  private readonly firstAt = new Map<string, number>();
  private loadEndAt = 0;

  constructor(shards: number, startedAt: number) {
    this.shards = Array.from({ length: shards }, () => ({ parts: {}, base: { at: startedAt, counters: {} }, rates: {}, crashed: false }));
  }

  /** One shard snapshot's workloads (`final`: its last, partial second gives no rate). */
  apply(shardId: number, at: number, parts: Record<string, WorkloadStatsPart> | undefined, final: boolean): void {
    const s = this.shards[shardId];
    if (s.crashed || !parts) return;
    s.parts = parts;
    const dt = at - s.base.at;
    if (!final && dt >= MIN_RATE_INTERVAL_MS) {
      for (const [name, p] of Object.entries(parts)) {
        const before = s.base.counters[name] ?? {};
        const rates: Record<string, number> = {};
        for (const [k, v] of Object.entries(p.counters)) if (!isGauge(name, k)) rates[k] = round1((v - (before[k] ?? 0)) / (dt / 1000));
        s.rates[name] = rates;
      }
      s.base = { at, counters: Object.fromEntries(Object.entries(parts).map(([n, p]) => [n, { ...p.counters }])) };
    }
    for (const [name, p] of Object.entries(parts)) {
      if (p.firstAt && !(this.firstAt.get(name)! <= p.firstAt)) this.firstAt.set(name, p.firstAt);
      let hs = this.hist.get(name);
      if (!hs) this.hist.set(name, (hs = new Map()));
      for (const [h, enc] of Object.entries(p.hist)) {
        const d = decodeHistogram(enc);
        if (!d.totalCount) continue;
        let cum = hs.get(h);
        if (!cum) hs.set(h, (cum = createHistogram()));
        cum.add(d);
        if (h === PRIMARY_HISTOGRAM) {
          let sec = this.sec.get(name);
          if (!sec) this.sec.set(name, (sec = createHistogram()));
          sec.add(d);
        }
      }
    }
  }

  /** The stop was sent: the seconds under load end here (as the aggregator's, aggregate.ts). */
  loadEnded(at: number): void {
    if (!this.loadEndAt) this.loadEndAt = at;
  }

  /** The shard died: its last share stays in the totals, its rates leave them. */
  crashed(shardId: number): void {
    const s = this.shards[shardId];
    s.crashed = true;
    s.rates = {};
  }

  /**
   * `workloads` of the merged snapshot at `now` (undefined while no shard reported any). Live: the
   * rates of the last whole second, and a series point. Final: rates over the seconds under load.
   */
  summary(now: number, final: boolean, loadSec: number): Record<string, WorkloadSummary> | undefined {
    const names = ordered(new Set(this.shards.flatMap((s) => Object.keys(s.parts))));
    if (!names.length) return undefined;
    const out: Record<string, WorkloadSummary> = {};
    for (const name of names) {
      const def = isWorkloadName(name) ? WORKLOAD_STATS[name] : null;
      const counters: Record<string, number> = Object.fromEntries(Object.keys(def?.counters ?? {}).map((k) => [k, 0]));
      const byCause: Record<string, number> = {};
      const live: Record<string, number> = {};
      for (const s of this.shards) {
        const p = s.parts[name];
        if (!p) continue;
        for (const [k, v] of Object.entries(p.counters)) counters[k] = (counters[k] ?? 0) + v;
        for (const [k, v] of Object.entries(p.byCause ?? {})) byCause[k] = (byCause[k] ?? 0) + v;
        for (const [k, v] of Object.entries(s.rates[name] ?? {})) live[k] = round1((live[k] ?? 0) + v);
      }
      // a workload that times its own calls is under load from its first call (the run's telemetry may not exist)
      const first = this.firstAt.get(name);
      const underLoad = first ? Math.max(0, ((this.loadEndAt || now) - first) / 1000) : loadSec;
      const rates = final
        ? Object.fromEntries(
            Object.keys(counters)
              .filter((k) => !isGauge(name, k))
              .map((k) => [k, underLoad > 0 ? round1(counters[k] / underLoad) : 0]),
          )
        : live;
      const hists: Record<string, ReturnType<typeof summarize>> = {};
      for (const h of Object.keys(def?.histograms ?? {})) hists[h] = summarize(this.hist.get(name)?.get(h) ?? createHistogram());
      for (const [h, cum] of this.hist.get(name) ?? []) hists[h] ??= summarize(cum);
      const series = this.series.get(name) ?? [];
      if (!final) {
        const sec = this.sec.get(name);
        const p = sec && sec.totalCount ? summarize(sec) : null;
        sec?.reset();
        const chart = Object.fromEntries((def?.chart ?? []).map((k) => [k, live[k] ?? 0]));
        series.push({ ts: now, p50Ms: p?.p50 ?? null, p99Ms: p?.p99 ?? null, rates: chart });
        if (series.length > SERIES_POINTS) series.shift();
        this.series.set(name, series);
      }
      out[name] = {
        ...counters,
        ...hists,
        rates,
        ...(Object.keys(byCause).length ? { byCause } : {}),
        series: [...series],
      };
    }
    return out;
  }

  /** The run's histograms encoded (base64), for the report (`histograms.workloads`) and `report merge`. */
  encoded(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [name, hs] of this.hist) out[name] = Object.fromEntries([...hs].map(([h, cum]) => [h, encodeHistogram(cum)]));
    return out;
  }
}
