// `report merge` for the workloads (issue 16): the instances ran side by side, so each workload's
// counters, rates and causes add up, and its histograms merge exactly from the encoded ones
// (`histograms.workloads`); percentiles are never averaged. An instance that has samples but no
// encoded histogram leaves that histogram out, with a warning.
import { createHistogram, encodeHistogram, mergeInto, summarize } from '../metrics/hdr.js';
import type { WorkloadSummary } from '../metrics/snapshot.js';
import type { Percentiles } from '../metrics/snapshot.js';
import type { RunReport } from './schema.js';

export interface MergedWorkloads {
  workloads?: Record<string, WorkloadSummary>;
  histograms?: Record<string, Record<string, string>>;
  warnings: string[];
}

const isPercentiles = (v: unknown): v is Percentiles => typeof v === 'object' && v !== null && !Array.isArray(v) && 'count' in v;

export function mergeWorkloads(reports: readonly RunReport[]): MergedWorkloads {
  const warnings: string[] = [];
  const names = [...new Set(reports.flatMap((r) => Object.keys(r.workloads ?? {})))];
  if (!names.length) return { warnings };
  const workloads: Record<string, WorkloadSummary> = {};
  const histograms: Record<string, Record<string, string>> = {};
  for (const name of names) {
    const numbers: Record<string, number> = {};
    const rates: Record<string, number> = {};
    const byCause: Record<string, number> = {};
    const hists = new Set<string>();
    for (const r of reports) {
      const w = r.workloads?.[name];
      if (!w) continue;
      for (const [k, v] of Object.entries(w)) {
        if (typeof v === 'number') numbers[k] = (numbers[k] ?? 0) + v;
        else if (isPercentiles(v)) hists.add(k);
      }
      for (const [k, v] of Object.entries(w.rates)) rates[k] = Math.round(((rates[k] ?? 0) + v) * 10) / 10;
      for (const [k, v] of Object.entries(w.byCause ?? {})) byCause[k] = (byCause[k] ?? 0) + v;
    }
    const merged: Record<string, Percentiles> = {};
    for (const h of hists) {
      const sum = createHistogram();
      for (const r of reports) {
        const p = r.workloads?.[name]?.[h];
        const enc = r.histograms.workloads?.[name]?.[h];
        if (enc) mergeInto(sum, enc);
        else if (isPercentiles(p) && p.count > 0)
          warnings.push(`${r.runId}: workloads.${name}.${h} has samples but no encoded histogram; left out`);
      }
      merged[h] = summarize(sum);
      if (sum.totalCount) (histograms[name] ??= {})[h] = encodeHistogram(sum);
    }
    workloads[name] = { ...numbers, ...merged, rates, ...(Object.keys(byCause).length ? { byCause } : {}) };
  }
  return { workloads, histograms, warnings };
}
