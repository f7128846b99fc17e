// /metrics against the Prometheus tools themselves: `promtool check metrics` (the exposition
// linter) and a real Prometheus server scraping the dashboard with the scrape config the docs
// give, then answering the documented queries. Both are skipped, with the reason, when the
// Debian `prometheus` package is not installed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDashboard } from '../helpers/dashboard.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';
import { waitFor } from '../helpers/wait.js';

const has = (bin: string) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
const NO_PROMTOOL = has('promtool') ? false : 'promtool not installed (Debian package `prometheus`)';
const NO_PROMETHEUS = has('prometheus') ? false : 'prometheus not installed (Debian package `prometheus`)';

test('promtool check metrics passes on /metrics (no reserved `quantile` label on gauges)', { skip: NO_PROMTOOL }, async (t) => {
  const { dash, url } = await startDashboard(t);
  dash.publish(fixtureSnapshot({ instance: '2/4', ackLatenciesMs: [0.3, 1.5, 7, 150] }));
  const text = await (await fetch(`${url}/metrics`)).text();
  assert.match(text, /tblab_ack_latency_quantile_seconds\{[^}]*percentile="p99"/);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as { port: number }).port;
  await new Promise((res) => s.close(res));
  return port;
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(base: string, q: string): Promise<PromResult[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  const r = (await res.json()) as { status: string; data: { result: PromResult[] } };
  assert.equal(r.status, 'success', q);
  return r.data.result;
}

async function startPrometheus(t: TestContext, target: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tblab-prom-'));
  // the documented scrape job (honor_labels keeps the lab's own `instance`), at 1 s for the test
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'scrape_configs:',
      '  - job_name: tblab',
      '    honor_labels: true',
      '    scrape_interval: 1s',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const p = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  p.stderr.on('data', (c) => (log += String(c)));
  t.after(async () => {
    if (p.exitCode === null) {
      p.kill('SIGTERM');
      await new Promise((res) => p.once('exit', res));
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`prometheus ready (${log})`, async () => (await fetch(`${base}/-/ready`).catch(() => null))?.ok, 30_000);
  return base;
}

test(
  'a real Prometheus scrapes /metrics with the documented job, answers the documented queries',
  { skip: NO_PROMETHEUS, timeout: 90_000 },
  async (t) => {
    const { dash, url } = await startDashboard(t);
    // a run in progress: counters and latency buckets grow between scrapes
    let k = 1;
    const publish = () => {
      const snap = fixtureSnapshot({ instance: '2/4', ackLatenciesMs: Array.from({ length: 4 * k }, (_, j) => 1 + (j % 40)) });
      dash.publish({ ...snap, traffic: { ...snap.traffic, sent: 400 * k } });
      k++;
    };
    publish();
    const timer = setInterval(publish, 250);
    t.after(() => clearInterval(timer));
    const prom = await startPrometheus(t, new URL(url).host);

    const sent = await waitFor(
      'two scrapes of tblab_messages_sent_total',
      async () => {
        const r = await query(prom, 'sum by (run_id) (rate(tblab_messages_sent_total[1m]))');
        return r.length === 1 && Number(r[0].value[1]) > 0 ? r : null;
      },
      45_000,
    );
    assert.equal(sent[0].metric.run_id, fixtureSnapshot().runId);
    // honor_labels: the lab's `instance` survives the scrape (else it would be exported_instance)
    const raw = await query(prom, 'tblab_messages_sent_total');
    assert.equal(raw[0].metric.instance, '2/4');
    assert.equal(raw[0].metric.job, 'tblab');
    const p99 = await query(prom, 'histogram_quantile(0.99, sum by (run_id, le) (rate(tblab_ack_latency_seconds_bucket[1m])))');
    assert.equal(p99.length, 1);
    const v = Number(p99[0].value[1]);
    assert.ok(v > 0.001 && v <= 0.05, `fleet ack p99 ${v} s (recorded 1–40 ms)`);
    const gauge = await query(prom, 'tblab_ack_latency_quantile_seconds{percentile="max"}');
    assert.equal(gauge.length, 1);
    assert.ok(Math.abs(Number(gauge[0].value[1]) - 0.04) < 0.001, JSON.stringify(gauge));
  },
);
