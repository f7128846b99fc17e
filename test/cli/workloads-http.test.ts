// The `http` workload end to end through the built CLI (issue 16): devices posting telemetry to
// ThingsBoard's HTTP device API (`POST /api/v1/{token}/telemetry`, DeviceApiController) over a
// keep-alive pool, next to MQTT devices in the same run; every request's answer counted (2xx acked,
// the rest failed by cause), delivery truth reading the same `sequence` payload as over MQTT, and
// thresholds on http metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import { inEvenShare } from '../../src/lab/workload-fleet.js';
import type { RunReport } from '../../src/report/schema.js';
import type { Percentiles } from '../../src/metrics/snapshot.js';
import { fetchStats, startEmulator } from '../helpers/emulator.js';
import { emulatorFleet } from '../helpers/engine.js';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';

const reportOf = (stdout: string) => JSON.parse(readFileSync(JSON.parse(stdout).report, 'utf8')) as RunReport;

test(
  'device + http in one run: 200 HTTP devices at 1,000 msg/s next to 20 MQTT devices, every message stored, thresholds on both',
  { timeout: 120_000 },
  async (t) => {
    const cwd = tmpDir(t, 'tblab-http-');
    // the latency bound is loose on purpose: CI machines are shared (the point is a threshold on an http metric)
    const thresholds = ['http_p99<9s', 'http_failed==0', 'http_devices==200', 'device_devices==20', 'device_failed==0'];
    const env = {
      ...{ DEVICE_COUNT: '220', HTTP_DEVICES: '200', SHARDS: '2', PUBLISH_INTERVAL_SEC: '0.2', CONNECT_RATE: '0' },
      ...{ DASHBOARD: '0', LATENCY_SAMPLE: '0', SERVER_STATS: '0' },
    };
    const args = ['run', '--embedded', '--workload', 'device', '--workload', 'http', '--duration', '5', '--json'];
    const run = await tblab(t, [...args, ...thresholds.flatMap((x) => ['--threshold', x])], { cwd, env, timeoutMs: 110_000 });
    assert.equal(run.code, 0, run.stderr);
    const report = reportOf(run.stdout);
    assert.deepEqual(report.config.workloads, ['device', 'http']);
    const http = report.workloads!.http;
    const mqtt = report.workloads!.device;
    const skipped = report.metrics.traffic.skipped;
    t.diagnostic(
      `http ${JSON.stringify({ ...http, latencyMs: undefined })} p50 ${(http.latencyMs as Percentiles).p50} ms, skipped ${skipped}`,
    );
    assert.equal(http.devices, 200);
    assert.equal(mqtt.devices, 20);
    // 200 devices every 0.2 s: 1,000 requests a second over the seconds under load (a busy shared
    // machine makes the shards late: slots missed by more than 40 ms are counted as skipped)
    assert.ok(http.rates.sent >= 850 && http.rates.sent <= 1050, `http sent/s ${http.rates.sent}`);
    assert.ok((http.sent as number) >= 4000, `http sent ${http.sent}`);
    // HTTP_DEVICES=200 of 220, spread evenly by index: the rows of each workload add up to its counters
    const rows = Object.values(report.devices);
    const isHttp = (index: number) => inEvenShare(index, 200, 220);
    assert.equal(rows.filter((r) => isHttp(r.index)).length, 200);
    assert.equal(
      rows.filter((r) => isHttp(r.index)).reduce((a, r) => a + r.sent, 0),
      http.sent,
    );
    assert.equal(
      rows.filter((r) => !isHttp(r.index)).reduce((a, r) => a + r.sent, 0),
      mqtt.sent,
    );
    assert.equal(
      http.sent,
      (http.acked as number) + (http.failed as number) + (http.inFlight as number),
      'sent = acked + failed + inFlight',
    );
    assert.equal(http.failed, 0);
    assert.equal((http.latencyMs as Percentiles).count, http.acked, 'one latency sample per answered request');
    // the run's traffic is the sum of both workloads, each the sum of its rows
    const traffic = report.metrics.traffic;
    assert.equal(traffic.sent, (http.sent as number) + (mqtt.sent as number));
    assert.equal(traffic.acked, (http.acked as number) + (mqtt.acked as number));
    // delivery truth: the same sequence payload, read back per device over REST and from the emulator
    const d = report.delivery!;
    assert.equal(d.method, 'both');
    assert.equal(d.crossCheck?.agree, true);
    assert.deepEqual([d.totals.stored, d.totals.lost, d.totals.duplicates], [traffic.sent, 0, 0], 'sent = stored');
    for (const [name, x] of Object.entries(d.devices)) assert.equal(x.stored, report.devices[name].sent, name);
    assert.deepEqual(
      report.thresholds?.map((x) => [x.expression, x.ok]),
      thresholds.map((x) => [x, true]),
    );
    // `tblab report` and `tblab compare` show the workloads
    const path = JSON.parse(run.stdout).report as string;
    const text = await tblab(t, ['report', path], { cwd });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /\nWorkloads\n {2}device: devices 20, sent [\d,]+ \([\d,.]+\/s\), acked/);
    assert.match(text.stdout, /\n {2}http: devices 200, sent [\d,]+ \([\d,.]+\/s\), acked [\d,]+ \([\d,.]+\/s\), failed 0, inFlight 0/);
    assert.match(text.stdout, /\n {4}latencyMs +[\d,]+ +[\d,.]+ ms/);
    const cmp = await tblab(t, ['compare', path, path], { cwd });
    assert.match(cmp.stdout, /\nhttp_p99 +[\d,.]+ ?m?s +[\d,.]+ ?m?s +±0/);
    assert.match(cmp.stdout, /\ndevice_failed +0 +0/);
  },
);

test(
  'HTTP refusals counted by cause: 401 bad token, 413 oversized body, 429 throttling proxy, 500 rate limit',
  { timeout: 90_000 },
  async (t) => {
    // ThingsBoard's answers (DeviceApiController, PayloadSizeFilter, DefaultTransportService.checkLimits):
    // unknown token 401, body over transport.http.max_payload_size 413, transport rate limit 500; a
    // rate-limiting proxy in front answers 429 (the emulator's throttleHttp fault)
    const emu = await startEmulator(t, { httpMaxPayloadSize: 1000, rateLimits: { device: '2:1' }, faults: { throttleHttp: 0.1 } });
    const cwd = tmpDir(t, 'tblab-http-causes-');
    const fleet = await emulatorFleet(emu.restUrl, 5);
    const bad = fleet[4];
    const devices = Object.fromEntries(fleet.map(({ name, ...d }) => [name, d]));
    devices[bad.name] = { ...devices[bad.name], credentials: { type: 'ACCESS_TOKEN', token: 'not-a-token' } };
    writeTokenFile(join(cwd, 'data'), {
      version: 1,
      server: emu.restUrl,
      prefix: 'sim',
      deviceProfileId: null,
      updatedAt: new Date().toISOString(),
      devices,
    });
    // about half the messages carry 1,000 characters more than the limit allows
    writeFileSync(join(cwd, 'template.json'), JSON.stringify({ $extends: 'default', pad: `{{choice:x|${'x'.repeat(1000)}}}` }));
    const env = {
      TB_URL: emu.restUrl,
      MQTT_PORT: String(emu.mqttPort),
      WORKLOADS: 'http',
      DEVICE_COUNT: '5',
      SHARDS: '1',
      PUBLISH_INTERVAL_SEC: '0.1',
      PAYLOAD_TEMPLATE: 'template.json',
      DASHBOARD: '0',
      DELIVERY_CHECK: '0',
      SERVER_STATS: '0',
    };
    const run = await tblab(t, ['run', '--duration', '3', '--json', '--threshold', 'http_failed==0'], { cwd, env });
    assert.equal(run.code, 5, `the failed threshold on http_failed sets the exit code\n${run.stderr}`);
    const report = reportOf(run.stdout);
    const http = report.workloads!.http;
    const byCause = http.byCause ?? {};
    t.diagnostic(JSON.stringify(byCause));
    for (const cause of ['401 Unauthorized', '413 Payload Too Large', '429 Too Many Requests', '500 Internal Server Error'])
      assert.ok((byCause[cause] ?? 0) > 0, `${cause} in ${JSON.stringify(byCause)}`);
    const failed = Object.values(byCause).reduce((a, b) => a + b, 0);
    assert.equal(failed, http.failed, 'every failure has its cause');
    assert.equal(http.sent, (http.acked as number) + failed, 'sent = acked + failed (nothing in flight after the drain)');
    assert.equal(report.metrics.errors.byClass['http-error'], failed);
    assert.equal(report.thresholds?.[0].ok, false);
    // the bad token's device: every request refused; the others: what was acknowledged is what the server stored
    const rec = report.devices[bad.name];
    assert.ok(rec.sent > 0 && rec.acked === 0 && rec.failed === rec.sent, JSON.stringify(rec));
    const stats = await fetchStats(emu.restUrl);
    for (const d of fleet.slice(0, 4)) assert.equal(stats.perDevice[d.name].messages, report.devices[d.name].acked, d.name);
    assert.equal(stats.faults.httpThrottled, byCause['429 Too Many Requests']);
    assert.equal(
      fleet.slice(0, 4).reduce((a, d) => a + stats.perDevice[d.name].rateLimited, 0),
      byCause['500 Internal Server Error'],
    );
  },
);
