// The Prometheus series of the workloads (issue 16), from the workloads' stats table
// (src/metrics/workload-stats.ts) so every workload gets the same names: for prefix `rpc`,
// `tblab_rpc_sent_total` (cumulative counters), `tblab_rpc_in_flight` (gauges),
// `tblab_rpc_failures_by_cause_total{cause}` and `tblab_rpc_latency_quantile_seconds{percentile}`
// (one `_quantile_seconds` gauge per histogram: `receiveMs` → `tblab_rpc_receive_quantile_seconds`).
import type { MetricsSnapshot, Percentiles } from '../../metrics/snapshot.js';
import { WORKLOAD_STATS, snake, workloadHistogram } from '../../metrics/workload-stats.js';
import { WORKLOAD_NAMES } from '../../common/workloads.js';

export type Extra = 'outcome' | 'cause' | 'class' | 'percentile' | 'state' | 'endpoint' | 'result';

// The label is `percentile`, valued as the report names them (p50 … max): Prometheus reserves
// `quantile` for summaries, and `promtool check metrics` rejects it on a gauge.
export const PERCENTILES: Array<keyof Percentiles> = ['p50', 'p90', 'p95', 'p99', 'p999', 'max'];

type Values = (s: MetricsSnapshot) => Array<[Record<string, string>, number]>;

export interface WorkloadSeries {
  type: 'counter' | 'gauge';
  name: string;
  help: string;
  labels: Extra[];
  values: Values;
}

export function workloadSeries(): WorkloadSeries[] {
  const out: WorkloadSeries[] = [];
  for (const name of WORKLOAD_NAMES) {
    const def = WORKLOAD_STATS[name];
    const base = `tblab_${def.prefix}`;
    const pick = (s: MetricsSnapshot) => s.workloads?.[name];
    for (const [counter, c] of Object.entries(def.counters)) {
      const values: Values = (s) => {
        const v = pick(s)?.[counter];
        return typeof v === 'number' ? [[{}, v]] : [];
      };
      const help = `${def.title}: ${c.doc}.`;
      out.push(
        c.gauge
          ? { type: 'gauge', name: `${base}_${snake(counter)}`, help, labels: [], values }
          : { type: 'counter', name: `${base}_${snake(counter)}_total`, help, labels: [], values },
      );
    }
    out.push({
      type: 'counter',
      name: `${base}_failures_by_cause_total`,
      help: `${def.title}: failures by cause.`,
      labels: ['cause'],
      values: (s) => Object.entries(pick(s)?.byCause ?? {}).map(([cause, v]) => [{ cause }, v]),
    });
    for (const [hist, what] of Object.entries(def.histograms)) {
      out.push({
        type: 'gauge',
        name: `${base}_${snake(hist.replace(/Ms$/, ''))}_quantile_seconds`,
        help: `${def.title}: ${what} percentiles over the run, this instance only (percentile="p50" … "max").`,
        labels: ['percentile'],
        values: (s) => {
          const p: Percentiles | null = workloadHistogram(s.workloads, name, hist);
          return p ? PERCENTILES.filter((k) => p[k] !== null).map((k) => [{ percentile: k }, (p[k] as number) / 1000]) : [];
        },
      });
    }
  }
  return out;
}
