// The metric table of docs/thresholds.md, generated from THRESHOLD_METRICS (scripts/gen-docs.mjs;
// a unit test fails when the document is stale).
import { THRESHOLD_METRICS, type MetricKind } from './threshold-metrics.js';

const VALUES: Record<MetricKind, string> = {
  duration: '`200ms`, `1.5s`, `200` (ms)',
  ratio: '`0.001`, `0.1%`',
  count: '`100`, `12k`, `0.99*devices`',
  rate: '`500`, `1.5k`, `0.9*devices`',
  flag: '`0`, `1`',
};

export const METRIC_TABLE_START = '<!-- metric-table:start -->';
export const METRIC_TABLE_END = '<!-- metric-table:end -->';

export function renderThresholdMetricTable(): string {
  const rows = Object.entries(THRESHOLD_METRICS).map(([name, d]) => `| \`${name}\` | ${d.kind} | ${VALUES[d.kind]} | ${d.doc} |`);
  return [METRIC_TABLE_START, '| metric | kind | values | meaning |', '| --- | --- | --- | --- |', ...rows, METRIC_TABLE_END].join('\n');
}
