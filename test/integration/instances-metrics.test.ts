// Prometheus view of several instances: each instance's /metrics (a real dashboard on port 0)
// carries the shared fleet run id and its own instance, so `sum by (run_id)` adds them up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDashboard, parseExposition, type PromSample } from '../helpers/dashboard.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

test('instances of one RUN_ID export one run_id and distinct instance labels; sums equal the fleet', async (t) => {
  const samples: PromSample[] = [];
  for (const i of [1, 2, 3]) {
    const { dash, url } = await startDashboard(t, { runId: `soak-7-i${i}of3`, instance: `${i}/3` });
    dash.publish(
      fixtureSnapshot({ runId: `soak-7-i${i}of3`, instance: `${i}/3`, ackLatenciesMs: Array.from({ length: i * 10 }, (_, k) => k + 1) }),
    );
    samples.push(...parseExposition(await (await fetch(`${url}/metrics`)).text()).samples);
  }
  assert.deepEqual([...new Set(samples.map((s) => s.labels.run_id))], ['soak-7']);
  assert.deepEqual([...new Set(samples.map((s) => s.labels.instance))].sort(), ['1/3', '2/3', '3/3']);
  // what the Grafana panels compute: sum by (run_id)
  const sum = (name: string) => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
  assert.equal(sum('tblab_messages_sent_total'), 3 * 400);
  assert.equal(sum('tblab_devices_configured'), 3 * 10);
  // fleet ack latency from summed buckets: the +Inf buckets add up to every instance's count
  const inf = samples.filter((s) => s.name === 'tblab_ack_latency_seconds_bucket' && s.labels.le === '+Inf');
  assert.equal(inf.length, 3);
  assert.equal(
    inf.reduce((a, s) => a + s.value, 0),
    10 + 20 + 30,
  );
});

test('the Grafana dashboard groups by run_id, so the instances of one run are one line', () => {
  const path = fileURLToPath(new URL('../../../deploy/grafana/tblab-dashboard.json', import.meta.url));
  const text = readFileSync(path, 'utf8');
  const exprs = [...text.matchAll(/"expr":\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  const fleetWide = exprs.filter((e) => /\bby \(run_id(, le)?\)/.test(e));
  assert.ok(fleetWide.length >= 5, `fleet-wide panels: ${fleetWide.length}`);
  // no fleet-wide panel splits by a label that differs per instance
  for (const e of fleetWide) assert.doesNotMatch(e, /by \([^)]*\b(instance|pod)\b/, e);
});
