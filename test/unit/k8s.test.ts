import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadManifests, schemaProblems, typeProblems, renderPodEnv, quantity, type Manifest } from '../helpers/k8s.js';
import { loadConfig } from '../../src/config/index.js';
import { resolveInstance, runIdFor } from '../../src/lab/instance.js';
import { sliceBounds } from '../../src/common/fleet.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

const manifests = loadManifests();
const byKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind);
const one = (file: string) => {
  const m = manifests.find((x) => x.file === file);
  assert.ok(m, `${file} exists`);
  return m;
};
const clone = (m: Manifest, edit: (doc: any) => void): Manifest => {
  const doc = structuredClone(m.doc);
  edit(doc);
  return { file: m.file, doc };
};

/**
 * Planning figures until the benchmark publishes this version's numbers (`npm run bench`):
 * ~13 KB of RSS per connection and ~12 µs of CPU per message, plus the fixed cost of the
 * supervisor and its shard processes. job-run.yaml's requests must cover them.
 */
const KB_PER_CONN = 13;
const US_PER_MSG = 12;
const FIXED_MIB = 170;
const JOB_UID = '3f0c2a4e-7d51-4a8e-9b0e-2c6f1d9e8a71';

test('every manifest is valid against the Kubernetes API schemas', () => {
  assert.ok(manifests.length >= 6, `found ${manifests.map((m) => m.file).join(', ')}`);
  assert.deepEqual(manifests.flatMap(schemaProblems), []);
});

test('no manifest has a field the Kubernetes API does not know', () => {
  assert.deepEqual(typeProblems(manifests), []);
});

test('the validation fails on a misspelt field, a wrong enum and a wrong type (the checks can fail)', () => {
  const job = one('job-run.yaml');
  const typo = clone(job, (d) => {
    d.spec.template.spec.containers[0].enviroment = d.spec.template.spec.containers[0].env;
  });
  assert.match(typeProblems([typo]).join('\n'), /enviroment/);
  const misplaced = clone(job, (d) => {
    d.spec.sysctls = d.spec.template.spec.securityContext.sysctls;
  });
  assert.match(typeProblems([misplaced]).join('\n'), /sysctls/);
  const lowerEnum = clone(job, (d) => {
    d.spec.completionMode = 'indexed';
  });
  assert.match(schemaProblems(lowerEnum).join('\n'), /completionMode must be equal to one of the allowed values/);
  const badQuantity = clone(job, (d) => {
    d.spec.template.spec.containers[0].resources.requests.memory = '512 MB';
  });
  assert.match(schemaProblems(badQuantity).join('\n'), /memory must match format "quantity"/);
  const stringCount = clone(job, (d) => {
    d.spec.parallelism = '4';
  });
  assert.match(schemaProblems(stringCount).join('\n'), /parallelism must be integer/);
  const numberInConfigMap = clone(one('configmap.yaml'), (d) => {
    d.data.MQTT_PORT = 1883;
  });
  assert.notDeepEqual([...schemaProblems(numberInConfigMap), ...typeProblems([numberInConfigMap])], []);
});

test('the run Job is an Indexed Job with parallelism = completions = INSTANCE_COUNT', () => {
  const job = one('job-run.yaml').doc;
  const cm = one('configmap.yaml').doc;
  assert.equal(job.spec.completionMode, 'Indexed');
  assert.equal(job.spec.parallelism, job.spec.completions);
  assert.equal(String(job.spec.completions), cm.data.INSTANCE_COUNT);
  assert.equal(job.spec.template.spec.restartPolicy, 'Never');
  assert.equal(job.spec.backoffLimitPerIndex, 0, 'a retried pod would load its slice twice');
  const c = job.spec.template.spec.containers[0];
  assert.deepEqual([...c.command, ...c.args], ['tblab', 'run']);
  const ann = job.spec.template.metadata.annotations;
  assert.equal(ann['prometheus.io/scrape'], 'true');
  assert.equal(ann['prometheus.io/path'], '/metrics');
  assert.equal(ann['prometheus.io/port'], cm.data.METRICS_PORT);
  assert.equal(cm.data.METRICS_HOST, '0.0.0.0', 'Prometheus scrapes the pod IP');
  assert.ok(c.ports.some((p: any) => String(p.containerPort) === cm.data.METRICS_PORT));
  const sysctls = job.spec.template.spec.securityContext.sysctls;
  assert.deepEqual(
    sysctls.map((s: any) => s.name),
    ['net.ipv4.ip_local_port_range'],
  );
  // the three Jobs share one data volume
  for (const f of ['job-provision.yaml', 'job-run.yaml', 'job-merge.yaml']) {
    const vols = one(f).doc.spec.template.spec.volumes;
    assert.equal(vols[0].persistentVolumeClaim.claimName, byKind('PersistentVolumeClaim')[0].doc.metadata.name, f);
  }
});

test("pod k of the Job resolves to instance k+1/N under the Job's run id, and the N slices cover the fleet once", () => {
  const job = one('job-run.yaml').doc;
  const n = job.spec.completions as number;
  const cwd = tmpDir(fileScope, 'tblab-k8s-');
  const seen: string[] = [];
  let covered = 0;
  for (let k = 0; k < n; k++) {
    const env = renderPodEnv(job, { configMaps: byKind('ConfigMap'), secrets: byKind('Secret') }, k, JOB_UID);
    assert.equal(env.INSTANCE, undefined, 'a fixed INSTANCE would give every pod the same slice');
    const r = loadConfig({ cwd, env, envFile: false });
    assert.ok(r.ok, `pod ${k}: ${JSON.stringify(!r.ok && r.problems)}`);
    const inst = resolveInstance(r.config, env);
    assert.equal(inst?.label, `${k + 1}/${n}`);
    assert.equal(inst?.source, 'JOB_COMPLETION_INDEX');
    // every pod of the Job runs under one fleet run id
    assert.equal(runIdFor({ ...r.config, instance: inst!, dataDir: cwd }), `${JOB_UID}-i${k + 1}of${n}`);
    seen.push(inst!.label);
    const { start, end } = sliceBounds(r.config.deviceCount, inst!.index, inst!.count);
    assert.equal(start, covered);
    covered = end;
    assert.equal(r.config.dataDir, '/data');
    assert.equal(r.config.tbPassword, 'change-me', 'credentials come from the Secret');
  }
  assert.equal(new Set(seen).size, n);
  assert.equal(covered, Number(one('configmap.yaml').doc.data.DEVICE_COUNT));
});

test('the run pods request what the generator needs for their slice', () => {
  const job = one('job-run.yaml').doc;
  const cm = one('configmap.yaml').doc.data;
  const perPod = Math.ceil(Number(cm.DEVICE_COUNT) / Number(cm.INSTANCE_COUNT));
  const msgPerSec = perPod / Number(cm.PUBLISH_INTERVAL_SEC);
  const res = job.spec.template.spec.containers[0].resources;
  const needBytes = perPod * KB_PER_CONN * 1000 + FIXED_MIB * 2 ** 20;
  assert.ok(quantity(res.requests.memory) >= needBytes, `memory request ${res.requests.memory} < ${Math.ceil(needBytes / 2 ** 20)}Mi`);
  assert.ok(quantity(res.limits.memory) >= quantity(res.requests.memory));
  const needCores = (msgPerSec * US_PER_MSG) / 1e6;
  assert.ok(quantity(res.requests.cpu) >= needCores, `cpu request ${res.requests.cpu} < ${needCores}`);
  assert.equal(res.limits.cpu, undefined, 'a CPU limit would throttle the generator and skew its lag');
  // each shard process stays under the per-process open-file cap of 20,000
  assert.ok(Number(cm.MAX_CLIENTS_PER_PROCESS) < 20_000);
  const [lo, hi] = job.spec.template.spec.securityContext.sysctls[0].value.split(' ').map(Number);
  assert.ok(hi - lo + 1 > perPod, `port range ${lo}-${hi} must exceed ${perPod} connections per pod`);
});
