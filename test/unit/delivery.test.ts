// Delivery accounting without sockets: sequence analysis, sampling, the rate-limit pattern,
// the embedded emulator's history sizing and the human summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSequences, pickSample } from '../../src/lab/delivery/analyze.js';
import { attributeRateLimits } from '../../src/lab/delivery/rate-limit.js';
import { embeddedEmulatorArgs } from '../../src/lab/delivery/emulator-path.js';
import { deliverySummary } from '../../src/report/delivery-summary.js';
import { CLOSED_AFTER_PUBLISH, SERVER_CLOSED, lastPublishOf, reattributeDeadServer } from '../../src/metrics/attribution.js';
import { CAUSES } from '../../src/device/causes.js';
import { makeReport } from '../helpers/report-fixture.js';
import type { DeliveryReport, DeviceRecord, DisconnectRecord } from '../../src/report/schema.js';

test('analyzeSequences: lost values, repeats, values outside 1..sent, late by ts', () => {
  const pts = [1, 2, 2, 4, 7, 9].map((seq, k) => ({ ts: 1000 + k * 1000, seq, publishedAt: k === 5 ? 0 : 1000 + k * 1000 - 5 }));
  const a = analyzeSequences(pts, 6, 100);
  assert.deepEqual(a, { stored: 6, distinct: 3, lost: 3, lostSequences: [3, 5, 6], duplicates: 1, unexpected: 2, lateByTs: 1 });
  assert.deepEqual(analyzeSequences([], 3, 0, 2).lostSequences, [1, 2], 'list bounded, count not');
  assert.equal(analyzeSequences([], 3, 0, 2).lost, 3);
});

test('pickSample spreads over the fleet and never repeats', () => {
  const xs = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(pickSample(xs, 5), [0, 2, 4, 6, 8]);
  assert.deepEqual(pickSample(xs, 20), xs);
  assert.deepEqual(pickSample(xs, 0), []);
});

function device(firstPublishAt: number, disconnects: Partial<DisconnectRecord>[]): DeviceRecord {
  return {
    index: 1,
    shard: 0,
    connectedAt: firstPublishAt,
    connectMs: 1,
    firstPublishAt,
    lastPublishAt: null,
    sent: 10,
    acked: 9,
    failed: 1,
    skipped: 0,
    connects: 1,
    connectFailures: 0,
    errors: {},
    paused: false,
    lastSequence: 10,
    disconnects: disconnects.map(
      (d) => ({ at: 0, cause: 'server closed after publish (rate limit suspected)', class: 'rate-limit', ...d }) as DisconnectRecord,
    ),
  };
}

test('rate-limit pattern: the same message budget on every device → per device; varied → tenant-wide', () => {
  const t0 = 1_700_000_000_000;
  const perDevice = attributeRateLimits({
    devices: {
      a: device(t0, [{ at: t0 + 4000 }]),
      b: device(t0 + 300, [{ at: t0 + 4300 }, { at: t0 + 9000 }]),
      c: device(t0, [{ at: t0 + 7000 }]),
    },
    intervalSec: 1,
    peakSentPerSec: 3,
    rest429: { count: 0, firstAt: null },
  });
  assert.deepEqual(perDevice.devices, ['a', 'b', 'c']);
  assert.equal(perDevice.count, 4);
  assert.equal(perDevice.firstAt, t0 + 4000);
  assert.match(perDevice.pattern!, /^per device: 3 of 3 devices were cut off, 2 of them after 5±1 message/);
  assert.match(perDevice.advice!, /transportDeviceMsgRateLimit/);

  // the same budget, but only some of the devices: a shared budget, not a per-device one
  const some = attributeRateLimits({
    devices: { a: device(t0, [{ at: t0 + 4000 }]), b: device(t0, [{ at: t0 + 4000 }]), c: device(t0, []) },
    intervalSec: 1,
    peakSentPerSec: 3,
    rest429: { count: 0, firstAt: null },
  });
  assert.match(some.pattern!, /^tenant-wide/);

  const tenant = attributeRateLimits({
    devices: { a: device(t0, [{ at: t0 + 1000 }]), b: device(t0, [{ at: t0 + 20_000 }]), c: device(t0, [{ at: t0 + 9000 }]) },
    intervalSec: 1,
    peakSentPerSec: 300,
    rest429: { count: 2, firstAt: t0 + 30_000 },
  });
  assert.match(tenant.pattern!, /^tenant-wide/);
  assert.match(tenant.advice!, /transportTenantMsgRateLimit.*300 msg\/s/);
  assert.match(tenant.advice!, /tenantServerRestLimitsConfiguration/);
  assert.equal(tenant.events.at(-1)!.device, '(REST API)');

  const v5 = attributeRateLimits({
    devices: { a: device(t0, [{ at: t0 + 10, cause: 'server disconnect: implementation specific error (0x83)', class: 'server' }]) },
    intervalSec: 1,
    peakSentPerSec: 1,
    rest429: { count: 0, firstAt: null },
  });
  assert.match(v5.events[0].evidence, /0x83/);
  const none = attributeRateLimits({
    devices: { a: device(t0, [{ cause: 'server closed', class: 'server' }]) },
    intervalSec: 1,
    peakSentPerSec: 1,
    rest429: { count: 0, firstAt: null },
  });
  assert.deepEqual([none.pattern, none.firstAt, none.count], [null, null, 0]);
});

test('embedded emulator keeps enough raw rows per device, within a total budget', () => {
  assert.deepEqual(embeddedEmulatorArgs({ durationSec: 60, publishIntervalSec: 1, deviceCount: 100 }), ['--recent-rows', '160']);
  assert.deepEqual(embeddedEmulatorArgs({ durationSec: 3600, publishIntervalSec: 0.1, deviceCount: 100_000 }), ['--recent-rows', '100']);
  assert.deepEqual(embeddedEmulatorArgs({ durationSec: 0, publishIntervalSec: 1, deviceCount: 10 }), ['--recent-rows', '100']);
});

test('the summary names the devices with loss, worst first, and their first lost sequences', () => {
  const d: DeliveryReport = {
    method: 'timeseries-count',
    checkedAt: '',
    notes: [],
    totals: { sent: 200, acked: 200, stored: 193, lost: 7, duplicates: 0, late: 0, ackedNotStored: 7 },
    devices: {
      'sim-001': { sent: 100, acked: 100, stored: 94, lost: 6, duplicates: 0, late: 0, lostSequences: [3, 4, 5, 6, 7, 8] },
      'sim-002': { sent: 100, acked: 100, stored: 99, lost: 1, duplicates: 0, late: 0, lostSequences: [50] },
    },
    devicesWithLoss: ['sim-001', 'sim-002'],
  };
  const s = deliverySummary(d).join('\n');
  assert.match(s, /lost 7 \(3\.50 %\)/);
  assert.match(s, /acknowledged but not stored: 7/);
  assert.match(s, /devices with loss \(2\): sim-001 \(6: 3, 4, 5, 6, 7, …\); sim-002 \(1: 50\)/);
});

test("a close in the run's last second: a publish ≥ 0.5 s after it shows the server alive; none leaves it the server's end", () => {
  const t0 = 1_700_000_000_000;
  // the run (and its timeline) ended 0.8 s after the close: no two timeline points ≥ 1.5 s after it
  const timeline = Array.from({ length: 10 }, (_, k) => ({ t: k, sent: k * 10, acked: k * 10, connected: 3 }));
  const closedAt = t0 + 8200;
  const published = (last: number) => ({ ...device(t0, []), lastPublishAt: last });
  const input = (othersLast: number) => {
    const devices = {
      a: { ...device(t0, [{ at: closedAt }]), lastPublishAt: closedAt },
      b: published(othersLast),
      c: published(othersLast),
    };
    return {
      devices,
      intervalSec: 1,
      peakSentPerSec: 30,
      rest429: { count: 0, firstAt: null },
      alive: { startedAt: t0, timeline, publishIntervalSec: 1, lastPublishAt: lastPublishOf(devices) },
    };
  };
  // other devices went on publishing until the lab stopped, 0.8 s after the close: a rate limit
  assert.equal(attributeRateLimits(input(closedAt + 800)).count, 1);
  // nothing was published after the close: as before, the server's end
  assert.equal(attributeRateLimits(input(closedAt + 100)).count, 0);
  assert.equal(lastPublishOf({}), null);
});

test('a dead server is not a rate limit: closes after a publish count only when traffic went on after them', () => {
  const t0 = 1_700_000_000_000;
  const rec = (at: number) => device(t0, [{ at }]);
  // the run's timeline, one point per second: traffic stops for good at 5 s (the server died)
  const deadAt5 = Array.from({ length: 12 }, (_, k) => ({
    t: k,
    sent: Math.min(k, 5) * 10,
    acked: Math.min(k, 5) * 10,
    connected: k <= 5 ? 3 : 0,
  }));
  const busy = Array.from({ length: 12 }, (_, k) => ({ t: k, sent: k * 10, acked: k * 10, connected: 3 }));
  // every publisher cut off at once, but their reconnects accepted: alive (a tenant-wide budget)
  const reconnected = deadAt5.map((p) => ({ ...p, connected: p.t >= 7 ? 2 : p.connected }));
  const input = (timeline: typeof busy) => ({
    devices: { a: rec(t0 + 5000), b: rec(t0 + 5010), c: rec(t0 + 5020) },
    intervalSec: 1,
    peakSentPerSec: 30,
    rest429: { count: 0, firstAt: null },
    alive: { startedAt: t0, timeline, publishIntervalSec: 1 },
  });
  const dead = attributeRateLimits(input(deadAt5));
  assert.deepEqual([dead.count, dead.pattern, dead.advice], [0, null, null]);
  assert.equal(attributeRateLimits(input(reconnected)).count, 3);
  const alive = attributeRateLimits(input(busy));
  assert.equal(alive.count, 3);
  assert.match(alive.pattern!, /^per device/);
  // a reason code is the server's own word: it was alive to send it
  const v5 = attributeRateLimits({
    ...input(deadAt5),
    devices: { a: device(t0, [{ at: t0 + 5000, cause: 'server disconnect: message rate too high (0x96)' }]) },
  });
  assert.equal(v5.count, 1);

  // the report's records and totals move together
  const snap = makeReport();
  const metrics = {
    ...snap.metrics,
    disconnects: { total: 4, byCause: { [CLOSED_AFTER_PUBLISH]: 3, 'server closed': 1 }, byClass: { 'rate-limit': 3, server: 1 } },
    collapse: {
      at: '',
      elapsedSec: 5,
      kind: 'connections' as const,
      dominantCause: CLOSED_AFTER_PUBLISH,
      connectedAtCollapse: 0,
      peakConnected: 3,
    },
  };
  const re = reattributeDeadServer(input(deadAt5).devices, metrics, input(deadAt5).alive);
  assert.equal(re.moved, 3);
  assert.deepEqual(re.metrics.disconnects.byCause, { 'server closed': 4 });
  assert.deepEqual(re.metrics.disconnects.byClass, { server: 4 });
  assert.equal(re.metrics.collapse!.dominantCause, 'server closed');
  assert.deepEqual(
    Object.values(re.devices).map((d) => d.disconnects[0].class),
    ['server', 'server', 'server'],
  );
  assert.equal(reattributeDeadServer(input(busy).devices, metrics, input(busy).alive).moved, 0);
  assert.equal(CAUSES.closedAfterPublish.cause, CLOSED_AFTER_PUBLISH, 'the engine and the report name the cause alike');
  assert.equal(CAUSES.serverClosed.cause, SERVER_CLOSED);
});

test('several endpoints: a close is judged by its own endpoint, the others carrying on prove nothing', () => {
  const t0 = 1_700_000_000_000;
  // endpoint 2 (devices 2, 4) dies at 5 s and stays down; endpoint 1 (devices 1, 3) goes on
  const timeline = Array.from({ length: 12 }, (_, k) => ({
    t: k,
    sent: k * 10,
    acked: k * 10,
    connected: k <= 5 ? 4 : 2,
    endpointsConnected: k <= 5 ? [2, 2] : [2, 0],
  }));
  const at = (index: number) => ({ ...device(t0, [{ at: t0 + 5000 }]), index });
  const devices = { 'sim-001': at(1), 'sim-002': at(2), 'sim-003': at(3), 'sim-004': at(4) };
  const rl = { [CLOSED_AFTER_PUBLISH]: 2 };
  const metrics = {
    ...makeReport().metrics,
    disconnects: { total: 4, byCause: { [CLOSED_AFTER_PUBLISH]: 4 }, byClass: { 'rate-limit': 4 } },
    endpoints: [0, 1].map((e) => ({
      ...makeReport().metrics.endpoints[0],
      endpoint: `127.0.0.1:${1883 + e}`,
      disconnects: { total: 2, byCause: rl, byClass: { 'rate-limit': 2 } },
    })),
  };
  const alive = { startedAt: t0, timeline, publishIntervalSec: 1 };
  const re = reattributeDeadServer(devices, metrics, alive);
  assert.equal(re.moved, 2);
  assert.deepEqual(
    Object.values(re.devices).map((d) => d.disconnects[0].cause),
    [CLOSED_AFTER_PUBLISH, SERVER_CLOSED, CLOSED_AFTER_PUBLISH, SERVER_CLOSED],
  );
  assert.deepEqual(re.metrics.disconnects.byCause, { [CLOSED_AFTER_PUBLISH]: 2, [SERVER_CLOSED]: 2 });
  assert.deepEqual(
    re.metrics.endpoints.map((e) => e.disconnects.byCause),
    [rl, { [SERVER_CLOSED]: 2 }],
  );
  assert.deepEqual(re.metrics.endpoints[1].disconnects.byClass, { server: 2 });
  // the delivery check's rate-limit evidence reads the same way
  const ev = attributeRateLimits({
    devices,
    intervalSec: 1,
    peakSentPerSec: 40,
    rest429: { count: 0, firstAt: null },
    alive: { ...alive, endpoints: 2 },
  });
  assert.deepEqual(
    ev.events.map((x) => x.device),
    ['sim-001', 'sim-003'],
  );
});
