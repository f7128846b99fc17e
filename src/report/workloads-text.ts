// The `Workloads` section of `tblab report`'s text: for each workload of the run its counters
// (with their rate over the seconds under load), its failures by cause, and a table of its
// latency histograms — the same `workloads.<name>` the JSON report holds (docs/workloads.md).
import type { Percentiles } from '../metrics/snapshot.js';
import type { RunReport } from './schema.js';
import { counts, ms, num, renderTable } from './table.js';

const isHist = (v: unknown): v is Percentiles => typeof v === 'object' && v !== null && !Array.isArray(v) && 'count' in v && 'p99' in v;

export function workloadsSection(r: RunReport): string | null {
  const all = Object.entries(r.workloads ?? {});
  if (!all.length) return null;
  const parts = all.map(([name, w]) => {
    const rates = w.rates ?? {};
    // the first five counters always (sent … inFlight), the others when they counted something
    const nums = Object.entries(w)
      .filter((e): e is [string, number] => typeof e[1] === 'number')
      .filter(([, v], i) => i < 5 || v !== 0);
    const line = nums.map(([k, v]) => `${k} ${num(v)}${rates[k] ? ` (${num(rates[k], 1)}/s)` : ''}`).join(', ');
    const hists = Object.entries(w).filter((e): e is [string, Percentiles] => isHist(e[1]) && e[1].count > 0);
    const table = hists.length
      ? '\n' +
        renderTable(
          ['', 'count', 'p50', 'p90', 'p99', 'max'],
          hists.map(([k, p]) => [k, num(p.count), ms(p.p50), ms(p.p90), ms(p.p99), ms(p.max)]),
          { indent: 4 },
        )
      : '';
    const causes = w.byCause && Object.keys(w.byCause).length ? `\n    by cause: ${counts(w.byCause)}` : '';
    return `  ${name}: ${line}${causes}${table}`;
  });
  return 'Workloads\n' + parts.join('\n');
}
