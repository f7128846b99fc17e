// The workloads in `tblab report` and `tblab compare` text (issue 16): generic, from the stats table
// (src/metrics/workload-stats.ts), so a workload added there shows up here with no change.
//
//   Workloads
//     http (HTTP devices): devices 200, sent 4,961, acked 4,961, failed 40, in flight 0; per second: sent 999.1, acked 991
//       latency (request handed to the pool → response, …): p50 1.85 ms, p99 9.2 ms, max 40 ms (4,961 samples)
//       failed by cause: 429 Too Many Requests: 30, ack timeout: 10
import { PRIMARY_HISTOGRAM, WORKLOAD_STATS, snake, workloadHistogram, type WorkloadSummary } from '../metrics/workload-stats.js';
import { WORKLOAD_NAMES } from '../shared/workloads.js';
import { counts, ms, num } from './table.js';

type Workloads = Record<string, WorkloadSummary> | undefined;

/** The report's `workloads` as text lines (none when the report has none), in registry order. */
export function workloadLines(w: Workloads): string[] {
  const out: string[] = [];
  for (const name of WORKLOAD_NAMES) {
    const s = w?.[name];
    if (!s) continue;
    const def = WORKLOAD_STATS[name];
    const counters = Object.keys(def.counters)
      .filter((c) => typeof s[c] === 'number')
      .map((c) => `${snake(c).replace(/_/g, ' ')} ${num(s[c] as number)}`);
    const rates = def.chart.filter((c) => s.rates[c] !== undefined).map((c) => `${c} ${num(s.rates[c], 1)}`);
    out.push(`${name} (${def.title}): ${counters.join(', ')}${rates.length ? `; per second: ${rates.join(', ')}` : ''}`);
    for (const [h, what] of Object.entries(def.histograms)) {
      const p = workloadHistogram(w, name, h);
      if (!p || p.count === 0) continue;
      const label = h === PRIMARY_HISTOGRAM ? 'latency' : h;
      out.push(`  ${label} (${what}): p50 ${ms(p.p50)}, p99 ${ms(p.p99)}, max ${ms(p.max)} (${num(p.count)} samples)`);
    }
    if (s.byCause && Object.keys(s.byCause).length) out.push(`  failed by cause: ${counts(s.byCause)}`);
  }
  return out;
}

/** `Workloads` section of `tblab report` (null when the report has no workloads). */
export function renderWorkloads(w: Workloads): string | null {
  const lines = workloadLines(w);
  return lines.length ? 'Workloads\n' + lines.map((l) => `  ${l}`).join('\n') : null;
}

/**
 * Comparison rows for the workloads either run has, as threshold metric names with their better
 * direction: the primary latency's p50/p99 (lower), `failed` and `timeouts` (lower), the other
 * counters shown only.
 */
export function workloadCompareRows(a: Workloads, b: Workloads): Array<[string, 'higher' | 'lower' | null]> {
  const rows: Array<[string, 'higher' | 'lower' | null]> = [];
  for (const name of WORKLOAD_NAMES) {
    if (!a?.[name] && !b?.[name]) continue;
    const def = WORKLOAD_STATS[name];
    for (const c of Object.keys(def.counters)) {
      if (def.counters[c].gauge) continue;
      rows.push([`${name}_${snake(c)}`, c === 'failed' || c === 'timeouts' ? 'lower' : null]);
    }
    rows.push([`${name}_p50`, 'lower'], [`${name}_p99`, 'lower']);
  }
  return rows;
}
