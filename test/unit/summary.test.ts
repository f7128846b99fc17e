import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarize, renderSummary } from '../../src/report/summary.js';
import { devicesWithErrors, stalledDevices, delayedStarts, delayedStartLimitSec } from '../../src/report/analysis.js';
import { readReport, listRuns } from '../../src/report/read.js';
import { renderTable } from '../../src/report/table.js';
import { LabError } from '../../src/common/errors.js';
import { makeReport, saveReport } from '../helpers/report-fixture.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

const troubled = makeReport({
  devices: 30,
  durationSec: 40,
  failed: { 3: 2 },
  neverConnected: [7],
  stallAfterSec: { 12: 20 },
  delaySec: { 25: 20 },
  disconnects: {
    5: [
      [10, 'server closed', 'server'],
      [20, 'keepalive timeout', 'network'],
    ],
  },
});

describe('device findings', () => {
  test('devices with errors lists the one that never connected and the one with failed publishes, most errors first', () => {
    const f = devicesWithErrors(troubled);
    assert.deepEqual(
      f.map((x) => x.name),
      ['sim-007', 'sim-003'],
    );
    assert.equal(f[0].reason, 'never connected, refused: not authorized (5): 3');
    assert.equal(f[1].reason, 'ack-timeout: 2');
  });

  test('a device that stopped publishing for more than 3 intervals is stalled, with its gap', () => {
    const f = stalledDevices(troubled);
    assert.deepEqual(
      f.map((x) => x.name),
      ['sim-012'],
    );
    assert.match(f[0].reason, /^no publish for the last 20\.\ds \(20\.\d intervals\)$/);
  });

  test('a gap of up to 3 intervals is not a stall', () => {
    const r = makeReport({ devices: 5, durationSec: 30, intervalSec: 2, stallAfterSec: { 2: 25 } });
    assert.deepEqual(
      stalledDevices(r).map((x) => x.name),
      [],
    );
    const r2 = makeReport({ devices: 5, durationSec: 30, intervalSec: 2, stallAfterSec: { 2: 20 } });
    assert.deepEqual(
      stalledDevices(r2).map((x) => x.name),
      ['sim-002'],
    );
  });

  test('a device connecting well after the ramp is a delayed start; the ramp itself is not', () => {
    assert.deepEqual(
      delayedStarts(troubled).map((x) => x.name),
      ['sim-025'],
    );
    // a slow, rate-limited ramp of 60 devices at 2/s: the last device at +29.5s is on time
    const slow = makeReport({ devices: 60, durationSec: 40, connectRate: 2 });
    assert.ok(delayedStartLimitSec(slow) >= 30);
    assert.deepEqual(delayedStarts(slow), []);
  });

  test('paused devices are neither stalled nor erroneous', () => {
    const r = makeReport({ devices: 5, durationSec: 20, stallAfterSec: { 4: 5 } });
    r.devices['sim-004'].paused = true;
    assert.deepEqual(stalledDevices(r), []);
  });
});

describe('the summary', () => {
  test('numbers reconcile with the report', () => {
    const s = summarize(troubled);
    const sent = Object.values(troubled.devices).reduce((a, d) => a + d.sent, 0);
    assert.equal(s.traffic.sent, sent);
    assert.equal(s.loadSec, 40);
    assert.equal(s.traffic.avgMsgPerSec, sent / 40);
    assert.equal(s.connections.final, 29, 'connected when the load ended, not after the disconnect');
    assert.equal(s.connections.min, 29);
    assert.equal(s.firstDevices.length, 20);
    assert.equal(s.firstDevices[0].name, 'sim-001');
  });

  test('the text has every section an incident report needs, and no colour codes', () => {
    const text = renderSummary(troubled);
    for (const h of [
      'Run run-20261127-100000: completed (duration reached)',
      'Connections',
      'Traffic',
      'Latency',
      'Disconnects and errors',
      'Devices with errors: 2',
      'Devices with stalled telemetry: 1',
      'Devices with delayed starts: 1',
      'First 20 devices',
    ])
      assert.ok(text.includes(h), h);
    assert.match(text, /messages per second: +28 average, 28 peak/);
    assert.match(text, /bandwidth out: +231\.9 KB total/);
    assert.match(text, /disconnects: 2 — by cause: keepalive timeout: 1, server closed: 1; by class: network: 1, server: 1/);
    assert.match(text, /generator: ok;/);
    assert.doesNotMatch(text, /\x1b\[/);
  });

  test('a clean run says none for every finding', () => {
    const text = renderSummary(makeReport({ devices: 10, durationSec: 10 }));
    assert.match(text, /Devices with errors: none/);
    assert.match(text, /Devices with stalled telemetry: none/);
    assert.match(text, /Devices with delayed starts: none/);
  });

  test('several MQTT endpoints get a table of their own; one endpoint none', () => {
    const r = makeReport({ devices: 10, durationSec: 10 });
    assert.doesNotMatch(renderSummary(r), /MQTT endpoints/);
    const [one] = r.metrics.endpoints;
    const byCause = { ECONNREFUSED: 7, 'server closed': 2 };
    const two = { ...one, endpoint: '10.0.0.6:1883', failed: 7, disconnects: { total: 9, byCause, byClass: { network: 7, server: 2 } } };
    const text = renderSummary({ ...r, metrics: { ...r.metrics, endpoints: [{ ...one, endpoint: '10.0.0.5:1883' }, two] } });
    const table = text.split('\n\n').find((s) => s.startsWith('MQTT endpoints (device i on endpoint (i − 1) mod 2)'));
    assert.ok(table, text);
    const rows = table.split('\n').slice(3);
    assert.match(rows[0], /^ {2}10\.0\.0\.5:1883 +10 /);
    assert.match(rows[1], /^ {2}10\.0\.0\.6:1883 +10 .* 7 .* 9 +ECONNREFUSED$/);
  });

  test('long finding lists are cut at 20 with a count of the rest', () => {
    const text = renderSummary(makeReport({ devices: 30, durationSec: 10, neverConnected: Array.from({ length: 25 }, (_, i) => i + 1) }));
    assert.match(text, /Devices with errors: 25 /);
    assert.match(text, /… and 5 more/);
  });

  test('thresholds and delivery appear when the report has them', () => {
    const r = makeReport({
      devices: 10,
      durationSec: 10,
      deliveryLost: 1,
      thresholds: [{ expression: 'ack_p99<1ms', ok: false, actual: 20, limit: 1, message: 'ack_p99 = 20 ms, required < 1 ms' }],
    });
    const text = renderSummary(r);
    assert.match(text, /Thresholds: 0 of 1 passed\n.*\n.*\n {2}FAIL {2}ack_p99<1ms/);
    assert.match(
      text,
      /Delivery\n {2}delivery \(emulator record\): sent 100, acked 100, stored 99, lost 1 \(1\.00 %\), duplicates 0, late 0/,
    );
  });
});

describe('plain-text tables', () => {
  test('pads columns, right-aligns numbers and trims trailing blanks', () => {
    assert.equal(
      renderTable(
        ['name', 'n'],
        [
          ['a', '1'],
          ['bbb', '1,000'],
        ],
      ),
      'name      n\n----  -----\na         1\nbbb   1,000',
    );
  });
});

describe('reading and writing reports', () => {
  const dataDir = () => tmpDir(fileScope, 'tblab-rep-');

  test('reads a report back by id and by latest, and lists the runs', () => {
    const d = dataDir();
    saveReport(d, troubled);
    assert.equal(readReport(d, 'latest').report.runId, troubled.runId);
    assert.equal(readReport(d, troubled.runId).report.devices['sim-001'].sent, troubled.devices['sim-001'].sent);
    assert.deepEqual(listRuns(d), [troubled.runId]);
  });

  test('a missing run names the recent runs in its hint', () => {
    const d = dataDir();
    saveReport(d, troubled);
    assert.throws(
      () => readReport(d, 'nope'),
      (e: unknown) => e instanceof LabError && e.code === 'RUN_NOT_FOUND' && e.hint.includes(troubled.runId),
    );
  });

  test('a file that is not a report is rejected with REPORT_INVALID', () => {
    const d = dataDir();
    mkdirSync(join(d, 'runs'), { recursive: true });
    writeFileSync(join(d, 'runs', 'x.json'), '{"hello":1}');
    writeFileSync(join(d, 'runs', 'y.json'), '{not json');
    writeFileSync(join(d, 'runs', 'z.json'), JSON.stringify({ ...troubled, schemaVersion: 99 }));
    for (const id of ['x', 'y', 'z'])
      assert.throws(
        () => readReport(d, id),
        (e: unknown) => e instanceof LabError && e.code === 'REPORT_INVALID',
      );
    assert.match(readFileSync(join(d, 'runs', 'y.json'), 'utf8'), /not json/);
  });
});

test('latest and run ids fall back to data/embedded/runs, where suite --embedded keeps its reports', () => {
  const d = tmpDir(fileScope, 'tblab-rep-');
  saveReport(join(d, 'embedded'), troubled);
  assert.equal(readReport(d, 'latest').path, join(d, 'embedded', 'runs', 'latest.json'));
  assert.equal(readReport(d, troubled.runId).report.runId, troubled.runId);
  const own = makeReport({ runId: 'run-own', devices: 3, durationSec: 3 });
  saveReport(d, own);
  assert.equal(readReport(d, 'latest').report.runId, 'run-own', 'data/runs wins when it has one');
});
