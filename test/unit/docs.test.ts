import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { ERRORS } from '../../src/common/errors.js';
import { renderErrorsDoc } from '../../src/common/errors-doc.js';
import { THRESHOLD_METRICS } from '../../src/metrics/threshold-metrics.js';
import { renderThresholdMetricTable } from '../../src/metrics/threshold-docs.js';
import { PACKAGE_ROOT } from '../../src/common/version.js';
import { KEYS, renderConfigDoc } from '../../src/config/index.js';

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

test('docs/configuration.md is exactly what `tblab config --docs` generates from the KEYS table', () => {
  const doc = read('docs/configuration.md');
  const missing = Object.keys(KEYS).filter((k) => !doc.includes(`| \`${k}\` |`));
  assert.deepEqual(missing, [], `missing from docs/configuration.md: ${missing.join(', ')} — ${STALE}`);
  assert.equal(doc, renderConfigDoc(), `docs/configuration.md is stale: ${STALE}`);
  const cli = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli/main.js'), 'config', '--docs'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, doc, '`tblab config --docs` prints something other than docs/configuration.md');
});

test('README.md is a landing page: under 500 lines, with the test command CI runs', () => {
  const readme = read('README.md');
  const lines = readme.split('\n').length;
  assert.ok(lines < 500, `README.md has ${lines} lines; move detail into docs/`);
  // .ci/run runs `npm test`: the README must say that this is the test command.
  assert.match(read('.ci/run'), /\bnpm test\b/, '.ci/run no longer runs `npm test`');
  assert.match(readme, /^npm test\b/m, 'README.md lost its `npm test` line');
});

test('every relative link in README.md and docs/*.md points to an existing file (and heading)', () => {
  const files = [
    'README.md',
    ...readdirSync(join(PACKAGE_ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const target of relativeLinks(read(file))) {
      checked++;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const abs = path === '' ? join(PACKAGE_ROOT, file) : resolve(dirname(join(PACKAGE_ROOT, file)), decodeURIComponent(path));
      if (!existsSync(abs)) broken.push(`${file}: ${target} (no such file)`);
      else if (anchor && abs.endsWith('.md') && !headingSlugs(readFileSync(abs, 'utf8')).has(anchor)) {
        broken.push(`${file}: ${target} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked > 20, `only ${checked} links found: is the link pattern still right?`);
});

/** Targets of Markdown links and images outside code, without external URLs. */
function relativeLinks(md: string): string[] {
  const out: string[] = [];
  for (const m of stripCode(md).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const t = m[1]!;
    if (!/^[a-z][a-z0-9+.-]*:/i.test(t)) out.push(t);
  }
  return out;
}

const stripCode = (md: string) => md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces → '-', repeats numbered. */
function headingSlugs(md: string): Set<string> {
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  for (const m of md.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}
