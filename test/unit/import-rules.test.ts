// Import rules over src/: every import (static, `export … from`, dynamic `import()`, type-position `import('…')`)
// between the top-level folders of src/ must follow the layering below, so each layer can be read, tested and
// replaced without the ones above it. Type-only imports count too: they couple a layer to another's shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { PACKAGE_ROOT } from '../../src/common/version.js';

type Layer = 'common' | 'emulator' | 'thingsboard' | 'metrics' | 'device' | 'engine' | 'report' | 'config' | 'dashboard' | 'lab' | 'cli';

/** What each layer of src/ may import besides itself, and why. A new folder under src/ must be added here. */
const LAYERS: Record<Layer, { mayImport: Layer[]; why: string }> = {
  common: { mayImport: [], why: 'common is the bottom: errors, types and helpers every layer uses' },
  emulator: { mayImport: ['common'], why: 'the emulator stands in for ThingsBoard and must not know the lab that tests against it' },
  thingsboard: { mayImport: ['common'], why: 'the REST/WebSocket client takes plain options, not the lab configuration' },
  metrics: { mayImport: ['common'], why: 'snapshots, histograms and threshold metrics are plain data' },
  device: { mayImport: ['common', 'metrics'], why: 'one simulated device: codecs, payloads and failure causes' },
  engine: {
    mayImport: ['common', 'metrics', 'device'],
    why: 'the engine returns results; report, config, lab, cli and the dashboard are built on top of it',
  },
  report: { mayImport: ['common', 'metrics'], why: 'the report is built from metrics, not from the engine or the lab' },
  config: { mayImport: ['common'], why: 'configuration parsing knows no use case' },
  dashboard: { mayImport: ['common', 'metrics', 'report'], why: 'the dashboard shows snapshots and reports; the lab wires it' },
  lab: {
    mayImport: ['common', 'emulator', 'thingsboard', 'metrics', 'device', 'engine', 'report', 'config', 'dashboard'],
    why: 'use cases take a lab context; the CLI only maps flags to them',
  },
  cli: {
    mayImport: ['common', 'emulator', 'thingsboard', 'metrics', 'device', 'engine', 'report', 'config', 'dashboard', 'lab'],
    why: 'the CLI is the top',
  },
};

const SRC = join(PACKAGE_ROOT, 'src');

interface ImportRef {
  file: string; // relative to the package root
  line: number;
  specifier: string;
  kind: 'import' | 'export-from' | 'dynamic import()' | 'type import()' | 'import = require()';
  /** True when nothing of it exists at run time (`import type`, type-position `import('…')`, all-type specifiers). */
  typeOnly: boolean;
}

/** Every module specifier in one TypeScript source, with its line. */
function importsOf(file: string, source: string): ImportRef[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: ImportRef[] = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined, kind: ImportRef['kind'], typeOnly: boolean) => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    found.push({ file, line, specifier: spec.text, kind, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const allTypes = !!clause && !clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, 'import', !!clause?.isTypeOnly || allTypes);
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, 'export-from', node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], 'dynamic import()', false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, 'type import()', true);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, 'import = require()', node.isTypeOnly);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** The top-level folder of src/ a path is in, or null outside src/ (packages, node: builtins). */
function layerOf(absPath: string): string | null {
  const rel = relative(SRC, absPath);
  if (rel.startsWith('..') || rel === '') return null;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : '(src root)';
}

/** The rule an import breaks, or null when the layering allows it. */
function violation(ref: ImportRef): string | null {
  if (!ref.specifier.startsWith('.')) return null;
  const from = layerOf(join(PACKAGE_ROOT, ref.file));
  const to = layerOf(resolve(dirname(join(PACKAGE_ROOT, ref.file)), ref.specifier));
  if (from === null || to === null || from === to) return null;
  const rule = LAYERS[from as Layer];
  if (!rule) return `${from} is not in the layer table of test/unit/import-rules.test.ts: add it`;
  if ((rule.mayImport as string[]).includes(to)) return null;
  const allowed = rule.mayImport.length ? rule.mayImport.join(', ') : 'nothing of ours';
  return `${from} → ${to} is not allowed: ${from} may import ${allowed} (${rule.why})`;
}

function allImports(): ImportRef[] {
  return sourceFiles(SRC).flatMap((p) => importsOf(relative(PACKAGE_ROOT, p).split(sep).join('/'), readFileSync(p, 'utf8')));
}

/** Each cycle of a module graph once, as 'a → b → a' (depth-first, files in sorted order). */
function findCycles(graph: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    const at = path.indexOf(file);
    if (at !== -1) return void cycles.push([...path.slice(at), file].join(' → '));
    if (done.has(file)) return;
    path.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) visit(file);
  return cycles;
}

const describeRef = (r: ImportRef) => `${r.file}:${r.line} ${r.kind} '${r.specifier}'${r.typeOnly ? ' (type only)' : ''}`;

test('every folder of src/ has a row in the layer table', () => {
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  const missing = folders.filter((f) => !(f in LAYERS));
  assert.deepEqual(missing, [], `add these folders to LAYERS in test/unit/import-rules.test.ts: ${missing.join(', ')}`);
  const loose = readdirSync(SRC).filter((n) => n.endsWith('.ts'));
  assert.deepEqual(loose, [], 'files directly under src/ belong to no layer: move them into one');
});

test('the layer table has no cycle, so imports can only flow one way', () => {
  const seen = new Set<Layer>();
  const onPath: Layer[] = [];
  const visit = (l: Layer): void => {
    const at = onPath.indexOf(l);
    assert.equal(at, -1, `layer cycle: ${[...onPath.slice(at), l].join(' → ')}`);
    if (seen.has(l)) return;
    onPath.push(l);
    for (const next of LAYERS[l].mayImport) visit(next);
    onPath.pop();
    seen.add(l);
  };
  for (const l of Object.keys(LAYERS) as Layer[]) visit(l);
});

test('the import parser sees every form of import; the rules reject an upward import; a cycle is found', () => {
  const source = [
    "import { a } from '../report/a.js';",
    "import type { B } from '../config/b.js';",
    "import { type C } from '../lab/c.js';",
    "export { d } from '../cli/d.js';",
    "const e = await import('../dashboard/e.js');",
    "let f: import('../metrics/f.js').F;",
    "import './side-effect.js';",
    "import { readFileSync } from 'node:fs';",
  ].join('\n');
  const refs = importsOf('src/engine/probe.ts', source);
  assert.deepEqual(
    refs.map((r) => [r.line, r.kind, r.specifier, r.typeOnly]),
    [
      [1, 'import', '../report/a.js', false],
      [2, 'import', '../config/b.js', true],
      [3, 'import', '../lab/c.js', true],
      [4, 'export-from', '../cli/d.js', false],
      [5, 'dynamic import()', '../dashboard/e.js', false],
      [6, 'type import()', '../metrics/f.js', true],
      [7, 'import', './side-effect.js', false],
      [8, 'import', 'node:fs', false],
    ],
  );
  const broken = refs.filter((r) => violation(r) !== null).map((r) => r.specifier);
  assert.deepEqual(broken, ['../report/a.js', '../config/b.js', '../lab/c.js', '../cli/d.js', '../dashboard/e.js']);
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(findCycles(graph), ['a → b → c → a']);
  assert.match(violation(refs[0]) ?? '', /^engine → report is not allowed: engine may import common, metrics, device/);
});

test('src/ imports follow the layering (static, dynamic and type imports)', () => {
  const refs = allImports();
  assert.ok(refs.length > 100, `only ${refs.length} imports found under src/: is the parser or the path wrong?`);
  const broken = refs.flatMap((r) => {
    const why = violation(r);
    return why ? [`${describeRef(r)}: ${why}`] : [];
  });
  assert.ok(broken.length === 0, `${broken.length} import(s) break the layering:\n  ${broken.join('\n  ')}`);
});

test('no import cycle between modules of src/ at run time (type-only imports aside)', () => {
  const graph = new Map<string, string[]>();
  for (const r of allImports()) {
    if (r.typeOnly || !r.specifier.startsWith('.')) continue;
    const target = relative(PACKAGE_ROOT, resolve(dirname(join(PACKAGE_ROOT, r.file)), r.specifier))
      .split(sep)
      .join('/');
    graph.set(r.file, [...(graph.get(r.file) ?? []), target.replace(/\.js$/, '.ts')]);
  }
  const cycles = findCycles(graph);
  assert.ok(cycles.length === 0, `import cycles (a module may see another half-initialised):\n  ${cycles.join('\n  ')}`);
});
