// Offline validation of deploy/kubernetes against the Kubernetes API schemas, from two angles:
// kubernetes-models (the OpenAPI schema as JSON-schema validators: types, enums, formats, required
// fields) and kubernetes-types through the TypeScript compiler (rejects unknown or misspelt fields,
// which the JSON schemas allow). Plus the pod environment an Indexed Job gives pod k.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const K8S_DIR = join(REPO_ROOT, 'deploy', 'kubernetes');

export interface Manifest {
  file: string;
  doc: Record<string, any>;
}

export function loadManifests(dir = K8S_DIR): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      const doc = d.toJS();
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'batch/v1 Job': Job,
  'v1 ConfigMap': ConfigMap,
  'v1 Secret': Secret,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
};
const TYPES: Record<string, string> = {
  'batch/v1 Job': "import type { Job as T } from 'kubernetes-types/batch/v1';",
  'v1 ConfigMap': "import type { ConfigMap as T } from 'kubernetes-types/core/v1';",
  'v1 Secret': "import type { Secret as T } from 'kubernetes-types/core/v1';",
  'v1 PersistentVolumeClaim': "import type { PersistentVolumeClaim as T } from 'kubernetes-types/core/v1';",
};
const kindOf = (doc: Record<string, any>) => `${doc.apiVersion} ${doc.kind}`;

/** JSON-schema validation (kubernetes-models); returns the problems, empty when valid. */
export function schemaProblems(m: Manifest): string[] {
  const Model = MODELS[kindOf(m.doc)];
  if (!Model) return [`${m.file}: no schema for ${kindOf(m.doc)}`];
  try {
    new Model(m.doc).validate();
    return [];
  } catch (e) {
    return [`${m.file}: ${(e as Error).message}`];
  }
}

/** Type-checks every manifest as an object literal of its API type: excess properties are errors. */
export function typeProblems(manifests: readonly Manifest[]): string[] {
  const files = new Map<string, string>();
  manifests.forEach((m, i) => {
    const imp = TYPES[kindOf(m.doc)];
    if (!imp) throw new Error(`${m.file}: no type for ${kindOf(m.doc)}`);
    files.set(
      join(REPO_ROOT, '.k8s-typecheck', `m${i}-${m.file}.ts`),
      `${imp}\nexport const manifest: T = ${JSON.stringify(m.doc, null, 1)};\n`,
    );
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, ...rest) => {
    const text = files.get(name);
    return text === undefined ? getSourceFile.call(host, name, lang, ...rest) : ts.createSourceFile(name, text, lang);
  };
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name) ?? readFile.call(host, name);
  const program = ts.createProgram([...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/**
 * The environment of pod `index` of an Indexed Job, as the kubelet builds it: envFrom sources in
 * order, then `env` entries (which win); fieldRefs read the pod's annotations and labels, which the
 * Job controller sets (`batch.kubernetes.io/job-completion-index`, `batch.kubernetes.io/controller-uid`).
 */
export function renderPodEnv(
  job: Record<string, any>,
  sources: { configMaps: Manifest[]; secrets: Manifest[] },
  index: number,
  jobUid: string,
): Record<string, string> {
  const annotations: Record<string, string> = {
    ...job.spec.template.metadata?.annotations,
    'batch.kubernetes.io/job-completion-index': String(index),
  };
  const labels: Record<string, string> = {
    ...job.spec.template.metadata?.labels,
    'batch.kubernetes.io/controller-uid': jobUid,
    'batch.kubernetes.io/job-name': job.metadata.name,
  };
  const container = job.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  const byName = (list: Manifest[], name: string) => {
    const m = list.find((x) => x.doc.metadata.name === name);
    if (!m) throw new Error(`the Job refers to ${name}, which no manifest defines`);
    return m.doc;
  };
  for (const src of container.envFrom ?? []) {
    if (src.configMapRef) Object.assign(env, byName(sources.configMaps, src.configMapRef.name).data);
    else if (src.secretRef) Object.assign(env, byName(sources.secrets, src.secretRef.name).stringData);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else {
      const m = /^metadata\.(annotations|labels)\['(.+)'\]$/.exec(e.valueFrom?.fieldRef?.fieldPath ?? '');
      if (!m) throw new Error(`env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
      const value = (m[1] === 'labels' ? labels : annotations)[m[2]];
      if (value === undefined) throw new Error(`env ${e.name}: the pod has no ${m[1]} ${m[2]}`);
      env[e.name] = value;
    }
  }
  return env;
}

/** Kubernetes quantity → number (bytes for memory, cores for cpu). */
export function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(String(q));
  if (!m) throw new Error(`not a quantity: ${q}`);
  const unit = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}
