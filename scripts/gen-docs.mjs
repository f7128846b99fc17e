#!/usr/bin/env node
// Regenerates the generated parts of the docs from the compiled sources (run `npx tsc -p .` first):
// docs/errors.md (the error catalogue), docs/configuration.md (the KEYS table, as `tblab config --docs`)
// and the metric table of docs/thresholds.md.
// Usage: node scripts/gen-docs.mjs [--check]   (--check: exit 1 when a file is stale, write nothing)
import { readFileSync, writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../dist/src/common/errors-doc.js';
import { renderThresholdMetricTable, METRIC_TABLE_START, METRIC_TABLE_END } from '../dist/src/metrics/threshold-docs.js';
import { renderConfigDoc } from '../dist/src/config/docs.js';

const check = process.argv.includes('--check');
const thresholds = readFileSync('docs/thresholds.md', 'utf8');
const a = thresholds.indexOf(METRIC_TABLE_START),
  b = thresholds.indexOf(METRIC_TABLE_END);
if (a < 0 || b < 0) throw new Error('docs/thresholds.md lacks the metric-table markers');
const files = {
  'docs/errors.md': renderErrorsDoc(),
  'docs/configuration.md': renderConfigDoc(),
  'docs/thresholds.md': thresholds.slice(0, a) + renderThresholdMetricTable() + thresholds.slice(b + METRIC_TABLE_END.length),
};
let stale = 0;
for (const [path, text] of Object.entries(files)) {
  let cur = '';
  try {
    cur = readFileSync(path, 'utf8');
  } catch {
    /* new file */
  }
  if (cur === text) continue;
  stale++;
  if (check) console.error(`${path} is stale: run node scripts/gen-docs.mjs`);
  else {
    writeFileSync(path, text);
    console.error(`wrote ${path}`);
  }
}
process.exit(check && stale ? 1 : 0);
