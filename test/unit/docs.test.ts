import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS } from '../../src/shared/errors.js';
import { renderErrorsDoc } from '../../src/shared/errors-doc.js';
import { THRESHOLD_METRICS } from '../../src/metrics/threshold-metrics.js';
import { renderThresholdMetricTable } from '../../src/metrics/threshold-docs.js';
import { PACKAGE_ROOT } from '../../src/shared/version.js';

const read = (p: string) => readFileSync(join(PACKAGE_ROOT, p), 'utf8');
const STALE = 'run `npx tsc -p . && node scripts/gen-docs.mjs` and commit the result';

test('every error code of the catalogue is documented in docs/errors.md', () => {
  const doc = read('docs/errors.md');
  const missing = Object.keys(ERRORS).filter((code) => !doc.includes(`| \`${code}\` |`));
  assert.deepEqual(missing, [], `missing from docs/errors.md: ${missing.join(', ')} — ${STALE}`);
});

test('docs/errors.md is exactly what the catalogue generates', () => {
  assert.equal(read('docs/errors.md'), renderErrorsDoc(), `docs/errors.md is stale: ${STALE}`);
});

test('every threshold metric is documented in docs/thresholds.md', () => {
  const doc = read('docs/thresholds.md');
  const missing = Object.keys(THRESHOLD_METRICS).filter((m) => !doc.includes(`| \`${m}\` |`));
  assert.deepEqual(missing, [], `missing from docs/thresholds.md: ${missing.join(', ')} — ${STALE}`);
  assert.ok(doc.includes(renderThresholdMetricTable()), `the metric table of docs/thresholds.md is stale: ${STALE}`);
});
