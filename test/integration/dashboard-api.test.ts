import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startDashboard, parseExposition, familyOf } from '../helpers/dashboard.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';
import { LATENCY_BUCKETS_MS, cumulativeBuckets } from '../../src/metrics/buckets.js';
import { createHistogram, recordMs } from '../../src/metrics/hdr.js';
import { PrometheusExporter } from '../../src/dashboard/index.js';

import { metricsSchema as schema, metricsValidator as validator } from '../helpers/metrics-schema.js';

test('/api/metrics answers 503 before the first snapshot, then the latest snapshot, schema-valid', async (t) => {
  const { dash, url } = await startDashboard(t);
  const before = await fetch(`${url}/api/metrics`);
  assert.equal(before.status, 503);
  assert.ok(before.headers.get('retry-after'));

  const snap = fixtureSnapshot();
  dash.publish(snap);
  const res = await fetch(`${url}/api/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as Record<string, any>;
  assert.deepEqual(body, JSON.parse(JSON.stringify(snap)));
  const validate = validator();
  assert.ok(validate(body), JSON.stringify(validate.errors, null, 2));

  // the schema must refuse what breaks the contract
  assert.equal(validate({ ...body, schemaVersion: body.schemaVersion + 1 }), false);
  assert.equal(validate({ ...body, schemaVersion: body.schemaVersion - 1 }), false);
  const { endpoints, ...noEndpoints } = body;
  assert.equal(endpoints.length, 2);
  assert.equal(validate(noEndpoints), false, 'schema 3 requires the per-endpoint rows');
  assert.equal(validate({ ...body, endpoints: [{ ...endpoints[0], connected: -1 }] }), false);
  // a workload must carry its rates and its primary latency, counters are numbers ≥ 0 (schema v2)
  const device = body.workloads.device;
  assert.ok(device.latencyMs && device.rates);
  const { latencyMs: _latency, ...noLatency } = device;
  assert.equal(validate({ ...body, workloads: { device: noLatency } }), false);
  assert.equal(validate({ ...body, workloads: { device: { ...device, sent: -1 } } }), false);
  assert.equal(validate({ ...body, workloads: { device: { ...device, sent: 'many' } } }), false);
  const { traffic, ...noTraffic } = body;
  assert.ok(traffic);
  assert.equal(validate(noTraffic), false);
  assert.equal(validate({ ...body, traffic: { ...body.traffic, sent: -1 } }), false);
});

test("the JSON Schema requires exactly the snapshot's fields (kept in sync with snapshot.ts)", () => {
  // the optional fields (latencyBuckets, workloads) are left out: the required ones remain
  const snap = fixtureSnapshot({ withBuckets: false, withWorkloads: false });
  assert.deepEqual([...schema.required].sort(), Object.keys(snap).sort());
  for (const k of ['connections', 'traffic', 'latency', 'generator', 'target', 'disconnects', 'errors'] as const) {
    assert.deepEqual([...schema.properties[k].required].sort(), Object.keys(snap[k]).sort(), k);
  }
});

test('/metrics is a parsable Prometheus exposition with tblab_ names, run_id/instance labels and true values', async (t) => {
  const { dash, url } = await startDashboard(t);
  const empty = parseExposition(await (await fetch(`${url}/metrics`)).text());
  assert.equal(empty.samples.length, 0);
  assert.ok(empty.types.get('tblab_messages_sent_total'));

  const snap = fixtureSnapshot({ instance: '2/4', ackLatenciesMs: [0.3, 1.5, 7, 150] });
  dash.publish(snap);
  const res = await fetch(`${url}/metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const p = parseExposition(await res.text());

  for (const s of p.samples) {
    assert.match(s.name, /^tblab_/);
    const fam = familyOf(p, s.name);
    assert.ok(fam, `sample ${s.name} has a TYPE line`);
    assert.ok(p.help.has(fam));
    assert.equal(s.labels.run_id, snap.runId, s.name);
    assert.equal(s.labels.instance, '2/4', s.name);
  }
  const one = (name: string, extra: Record<string, string> = {}) => {
    const found = p.samples.filter((s) => s.name === name && Object.entries(extra).every(([k, v]) => s.labels[k] === v));
    assert.equal(found.length, 1, `${name} ${JSON.stringify(extra)}`);
    return found[0].value;
  };
  assert.equal(p.types.get('tblab_messages_sent_total'), 'counter');
  assert.equal(one('tblab_messages_sent_total'), 400);
  assert.equal(one('tblab_messages_acked_total'), 390);
  assert.equal(one('tblab_messages_failed_total'), 4);
  assert.equal(one('tblab_bytes_sent_total'), 123_456);
  assert.equal(one('tblab_connect_attempts_total', { outcome: 'refused: not authorized (5)' }), 2);
  assert.equal(one('tblab_disconnects_total', { cause: 'server closed' }), 2);
  assert.equal(one('tblab_connected_devices'), 8);
  assert.equal(one('tblab_peak_connected_devices'), 9);
  assert.equal(one('tblab_paused_devices'), 1);
  assert.equal(one('tblab_in_flight_messages'), 6);
  assert.equal(one('tblab_run_state', { state: 'running' }), 1);
  assert.equal(one('tblab_ack_latency_quantile_seconds', { percentile: 'p50' }), snap.latency.ackMs.p50! / 1000);
  // per MQTT endpoint
  const [e0, e1] = snap.endpoints;
  assert.equal(one('tblab_endpoint_devices', { endpoint: e1.endpoint }), 5);
  assert.equal(one('tblab_endpoint_connected_devices', { endpoint: e1.endpoint }), 3);
  assert.equal(one('tblab_endpoint_connects_total', { endpoint: e1.endpoint, result: 'failed' }), 2);
  assert.equal(one('tblab_endpoint_connects_total', { endpoint: e0.endpoint, result: 'succeeded' }), 5);
  assert.equal(one('tblab_endpoint_disconnects_total', { endpoint: e1.endpoint, cause: 'server closed' }), 2);
  assert.equal(
    one('tblab_endpoint_connect_latency_quantile_seconds', { endpoint: e0.endpoint, percentile: 'p50' }),
    e0.connectMs.p50! / 1000,
  );
  assert.equal(
    p.samples.filter((s) => s.name === 'tblab_endpoint_connect_latency_quantile_seconds' && s.labels.endpoint === e1.endpoint).length,
    0,
    'no percentiles without connects',
  );
  // the workloads' series (issue 16), named from the stats table: counters, gauges, causes, percentiles
  assert.equal(p.types.get('tblab_device_sent_total'), 'counter');
  assert.equal(one('tblab_device_sent_total'), 400);
  assert.equal(one('tblab_device_acked_total'), 390);
  assert.equal(one('tblab_device_failed_total'), 4);
  assert.equal(p.types.get('tblab_device_in_flight'), 'gauge');
  assert.equal(one('tblab_device_in_flight'), 6);
  assert.equal(one('tblab_device_devices'), 10);
  assert.equal(one('tblab_device_failures_by_cause_total', { cause: 'ack-timeout' }), 4);
  assert.equal(one('tblab_device_latency_quantile_seconds', { percentile: 'p99' }), snap.latency.ackMs.p99! / 1000);

  // histogram: one bucket per ladder step plus +Inf, cumulative, matching the recorded values
  assert.equal(p.types.get('tblab_ack_latency_seconds'), 'histogram');
  const buckets = p.samples.filter((s) => s.name === 'tblab_ack_latency_seconds_bucket');
  assert.equal(buckets.length, LATENCY_BUCKETS_MS.length + 1);
  const le = (v: string) => buckets.find((b) => b.labels.le === v)!.value;
  assert.equal(le('0.0005'), 1);
  assert.equal(le('0.001'), 1);
  assert.equal(le('0.002'), 2);
  assert.equal(le('0.01'), 3);
  assert.equal(le('0.1'), 3);
  assert.equal(le('0.2'), 4);
  assert.equal(le('+Inf'), 4);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value);
  assert.equal(one('tblab_ack_latency_seconds_count'), 4);
  assert.ok(Math.abs(one('tblab_ack_latency_seconds_sum') - 0.1588) < 0.001);

  // counters follow the newest snapshot
  dash.publish({ ...snap, traffic: { ...snap.traffic, sent: 450 } });
  const p2 = parseExposition(await (await fetch(`${url}/metrics`)).text());
  assert.equal(p2.samples.find((s) => s.name === 'tblab_messages_sent_total')!.value, 450);
});

test('/metrics without bucket data exports quantile gauges and no histogram samples', async (t) => {
  const { dash, url } = await startDashboard(t);
  dash.publish(fixtureSnapshot({ withBuckets: false }));
  const p = parseExposition(await (await fetch(`${url}/metrics`)).text());
  assert.equal(p.samples.filter((s) => s.name.startsWith('tblab_ack_latency_seconds')).length, 0);
  assert.equal(p.samples.filter((s) => s.name === 'tblab_ack_latency_quantile_seconds').length, 6);
  assert.equal(p.samples.find((s) => s.name === 'tblab_messages_sent_total')!.labels.instance, '1/1');
});

test('the page and its assets are served locally; nothing outside the UI folder is', async (t) => {
  const { url } = await startDashboard(t);
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<title>tb-load-lab/);
  assert.doesNotMatch(html, /https?:\/\//, 'no external URL in the page');
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  for (const path of ['/ui/app.js', '/ui/app.css', '/vendor/uPlot.esm.js', '/vendor/uPlot.min.css']) {
    const r = await fetch(url + path);
    assert.equal(r.status, 200, path);
    await r.arrayBuffer();
  }
  for (const path of ['/ui/..%2F..%2F..%2Fpackage.json', '/ui/missing.js', '/vendor/uPlot.cjs.js']) {
    const r = await fetch(url + path);
    assert.equal(r.status, 404, path);
    await r.arrayBuffer();
  }
});

test('the Grafana dashboard only queries metric names that /metrics exports, summed by run_id', () => {
  const grafana = readFileSync(new URL('../../../deploy/grafana/tblab-dashboard.json', import.meta.url), 'utf8');
  const exporter = new PrometheusExporter();
  const names = new Set([...grafana.matchAll(/\btblab_[a-z0-9_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
  assert.ok(names.size >= 10);
  for (const name of names) assert.ok(exporter.registry.getSingleMetric(name), `${name} is exported`);
  const exprs = [...grafana.matchAll(/"expr": "([^"]+)"/g)].map((m) => m[1]);
  for (const e of exprs) assert.match(e, /by \((run_id|cause|outcome|instance|run_id, le|run_id, instance)\)/, e);
});

test('cumulative buckets count values on a bound under it, and everything past the ladder only in count', () => {
  const h = createHistogram();
  for (const v of [1, 10, 10.1, 60_000, 70_000]) recordMs(h, v);
  const b = cumulativeBuckets(h);
  const at = (le: number) => b.counts[b.leMs.indexOf(le)];
  assert.deepEqual([at(0.5), at(1), at(5), at(10), at(20), at(60_000)], [0, 1, 1, 2, 3, 4]);
  assert.equal(b.count, 5);
  assert.ok(Math.abs(b.sumMs - 130_021.1) < 130);
  assert.deepEqual(cumulativeBuckets(createHistogram()), {
    leMs: [...LATENCY_BUCKETS_MS],
    counts: LATENCY_BUCKETS_MS.map(() => 0),
    count: 0,
    sumMs: 0,
  });
  // against raw counting (values kept clear of the bounds by more than HDR's 0.1 % precision)
  const r = createHistogram();
  const raw: number[] = [];
  while (raw.length < 5000) {
    const v = Math.exp(Math.random() * 12) / 100;
    if (LATENCY_BUCKETS_MS.some((le) => Math.abs(v - le) < le * 0.003)) continue;
    raw.push(v);
    recordMs(r, v);
  }
  const rb = cumulativeBuckets(r);
  LATENCY_BUCKETS_MS.forEach((le, n) => assert.equal(rb.counts[n], raw.filter((v) => v <= le).length, `le ${le}`));
  assert.ok(Math.abs(rb.sumMs - (r.mean * r.totalCount) / 1000) < 1e-6 * rb.sumMs);
});
