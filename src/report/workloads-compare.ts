// The workloads in `tblab compare` (issue 16): generic, from the stats table
// (src/metrics/workload-stats.ts), so a workload added there gets its rows with no change here.
import { WORKLOAD_STATS, snake, type WorkloadSummary } from '../metrics/workload-stats.js';
import { WORKLOAD_NAMES } from '../common/workloads.js';

type Workloads = Record<string, WorkloadSummary> | undefined;

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
