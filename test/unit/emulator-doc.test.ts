// docs/emulator.md's conformance table is checked against the tests: every row names tests that
// exist, and every test whose name starts with "conformance:" has a row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../../src/common/version.js';

const START = '<!-- conformance:start -->';
const END = '<!-- conformance:end -->';

interface Row {
  behaviour: string;
  source: string;
  tests: string[];
}

function tableRows(doc: string): Row[] {
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  assert.ok(from >= 0 && to > from, `docs/emulator.md must hold the table between ${START} and ${END}`);
  const lines = doc
    .slice(from + START.length, to)
    .split('\n')
    .filter((l) => l.startsWith('|'));
  return lines.slice(2).map((l) => {
    const cells = l
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    assert.equal(cells.length, 4, `a row needs 4 cells (behaviour | source | test | not imitated): ${l}`);
    // test names are quoted in the test cell as `name`
    return { behaviour: cells[0], source: cells[1], tests: [...cells[2].matchAll(/`([^`]+)`/g)].map((m) => m[1]) };
  });
}

/** Test names declared as `test('…'` in the TypeScript sources under test/, by file. */
function declaredTests(): Map<string, string> {
  const byName = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.ts')) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(/\btest\(\s*(['"`])((?:(?!\1).)+)\1/g)) byName.set(m[2], relative(PACKAGE_ROOT, p));
      }
    }
  };
  walk(join(PACKAGE_ROOT, 'test'));
  return byName;
}

test('docs/emulator.md: every conformance row cites a ThingsBoard source and names tests that exist', () => {
  const rows = tableRows(readFileSync(join(PACKAGE_ROOT, 'docs/emulator.md'), 'utf8'));
  const tests = declaredTests();
  assert.ok(rows.length > 0);
  for (const r of rows) {
    assert.ok(r.tests.length > 0, `row "${r.behaviour}" names no test`);
    for (const name of r.tests) assert.ok(tests.has(name), `row "${r.behaviour}" names a test that does not exist: ${name}`);
    const cites = /\.java|[A-Z]\w+(Controller|Handler|Service|Converter|Dao|Initializer|Adaptor|Decoder)\b/;
    assert.match(r.source, cites, `row "${r.behaviour}" cites no ThingsBoard source`);
  }
});

test('docs/emulator.md: every test named "conformance: …" has a row in the table', () => {
  const named = new Set(tableRows(readFileSync(join(PACKAGE_ROOT, 'docs/emulator.md'), 'utf8')).flatMap((r) => r.tests));
  const missing = [...declaredTests()].filter(([name]) => name.startsWith('conformance:') && !named.has(name));
  assert.deepEqual(
    missing.map(([name, file]) => `${file}: ${name}`),
    [],
    'conformance tests without a row in docs/emulator.md',
  );
});
