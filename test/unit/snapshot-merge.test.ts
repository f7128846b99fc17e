import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregator } from '../../src/engine/aggregate.js';
import { C, C_FIELDS, D, D_FIELDS, FLAG_CONNECTED } from '../../src/engine/counters.js';
import type { ShardSnapshot } from '../../src/engine/protocol.js';
import { createHistogram, encodeHistogram, recordMs } from '../../src/metrics/hdr.js';
import { CollapseDetector, dominantCause } from '../../src/metrics/collapse.js';
import { generatorHealth } from '../../src/metrics/health.js';

const hist = (...ms: number[]) => {
  const h = createHistogram();
  for (const v of ms) recordMs(h, v);
  return encodeHistogram(h);
};

function shardSnap(
  shardId: number,
  at: number,
  sent: number,
  acked: number,
  ack: number[],
  devices: Array<[number, number, number]>,
): ShardSnapshot {
  const counters = new Float64Array(C_FIELDS);
  counters[C.SENT] = sent;
  counters[C.ACKED] = acked;
  counters[C.CONNECTED] = devices.length;
  counters[C.WANTED] = devices.length;
  counters[C.DISCONNECTS] = 1;
  const rows = new Float64Array(devices.length * D_FIELDS);
  devices.forEach(([, s, a], k) => {
    rows[k * D_FIELDS + D.SENT] = s;
    rows[k * D_FIELDS + D.ACKED] = a;
    rows[k * D_FIELDS + D.LAST_SEQ] = s;
    rows[k * D_FIELDS + D.FLAGS] = FLAG_CONNECTED;
  });
  return {
    shardId,
    seq: 1,
    at,
    counters,
    byOutcome: { accepted: devices.length },
    byCause: { 'server closed': 1 },
    byClass: { server: 1 },
    errorsByKind: { 'ack-timeout': 1 },
    hist: { ackMs: hist(...ack), connectMs: hist(5), scheduleLagMs: hist(1, 2) },
    eventLoopP99Ms: 3 + shardId,
    cpuPercent: 10,
    rssMB: 50,
    changed: { idx: Int32Array.from(devices.map((d) => d[0])), rows },
    disconnects: [{ i: devices[0][0], at, cause: 'server closed', class: 'server' }],
    events: [],
  };
}

test('merge: counters add up, histograms merge exactly, rates come from deltas, devices keyed by name', () => {
  const t0 = 1_000_000;
  const agg = new Aggregator({
    runId: 'r1',
    instance: null,
    startedAt: t0,
    target: { mqtt: 'mqtt://x:1', rest: null, qos: 1, mqttVersion: '3.1.1', publishIntervalSec: 1 },
    shards: [
      { id: 0, names: ['a', 'b'], indices: [1, 2] },
      { id: 1, names: ['c'], indices: [3] },
    ],
    endpoints: [{ endpoint: 'x:1', devices: 3 }],
    collapseShare: 0.5,
    collapseWindowSec: 5,
  });
  agg.apply(
    shardSnap(
      0,
      t0 + 1000,
      10,
      9,
      [1, 2, 3],
      [
        [0, 6, 5],
        [1, 4, 4],
      ],
    ),
  );
  agg.apply(shardSnap(1, t0 + 1000, 5, 5, [100], [[0, 5, 5]]));
  // checkpoint JSON (cached per block of devices) always equals the records built afresh
  assert.equal(Buffer.concat(agg.deviceRecordsChunks()).toString(), JSON.stringify(agg.deviceRecords()));
  const s1 = agg.snapshot(t0 + 1000, 'running');
  assert.equal(s1.traffic.sent, 15);
  assert.equal(s1.traffic.acked, 14);
  assert.equal(s1.traffic.inFlight, 0);
  assert.equal(s1.traffic.sentPerSec, 15);
  assert.equal(s1.connections.connected, 3);
  assert.equal(s1.connections.byOutcome.accepted, 3);
  assert.equal(s1.disconnects.byCause['server closed'], 2);
  assert.equal(s1.errors.byClass['ack-timeout'], 2);
  assert.equal(s1.latency.ackMs.count, 4);
  assert.equal(s1.latency.ackMs.max, 100.031); // HDR precision: 3 significant digits
  assert.equal(s1.generator.eventLoopDelayP99Ms, 4);
  // next second: only shard 0 moved (each shard's rate is over its own whole second)
  agg.apply(
    shardSnap(
      0,
      t0 + 2000,
      20,
      19,
      [1],
      [
        [0, 11, 10],
        [1, 9, 9],
      ],
    ),
  );
  agg.apply(shardSnap(1, t0 + 2000, 5, 5, [], [[0, 5, 5]]));
  const s2 = agg.snapshot(t0 + 2000, 'running');
  assert.equal(s2.traffic.sent, 25);
  assert.equal(s2.traffic.sentPerSec, 10);
  assert.equal(s2.latency.ackMs.count, 5);
  assert.equal(s2.series.length, 2);
  const devs = agg.deviceRecords();
  assert.equal(Buffer.concat(agg.deviceRecordsChunks()).toString(), JSON.stringify(devs)); // shard 0 re-encoded; shard 1 from the cache
  assert.deepEqual(Object.keys(devs), ['a', 'b', 'c']);
  assert.equal(devs.a.sent, 11);
  assert.equal(devs.c.shard, 1);
  assert.equal(devs.a.lastSequence, 11);
  assert.equal(devs.a.disconnects.length, 2);
  assert.equal(s2.topDevices[0].name, 'a');
  assert.ok(agg.encodedHistograms().ackMs);
});

test('rates from whole seconds: misaligned shard snapshots and a final partial second do not inflate them', () => {
  const t0 = 1_000_000;
  const agg = new Aggregator({
    runId: 'r2',
    instance: null,
    startedAt: t0,
    target: { mqtt: 'mqtt://x:1', rest: null, qos: 1, mqttVersion: '3.1.1', publishIntervalSec: 1 },
    shards: [{ id: 0, names: ['a'], indices: [1] }],
    endpoints: [{ endpoint: 'x:1', devices: 1 }],
    collapseShare: 0.5,
    collapseWindowSec: 5,
  });
  const snap = (at: number, sent: number) => {
    const s = shardSnap(0, at, sent, sent, [], [[0, sent, sent]]);
    s.changed.rows[D.FIRST_PUB] = t0 + 500;
    return s;
  };
  // 100 msg/s; the shard's clock runs 400 ms after the supervisor's ticks
  assert.equal(agg.apply(snap(t0 + 1400, 90)).sentPerSec, 64.3); // 90 over its first 1.4 s
  agg.apply(snap(t0 + 2400, 190));
  assert.equal(agg.snapshot(t0 + 3000, 'running').traffic.sentPerSec, 100);
  agg.apply(snap(t0 + 3400, 290));
  agg.loadEnded(t0 + 3500);
  // the final snapshot 150 ms later (300 sent): no rate of its own, the last whole second stays
  assert.equal(agg.apply(snap(t0 + 3550, 300), true).sentPerSec, null);
  const fin = agg.snapshot(t0 + 3600, 'finished');
  assert.equal(fin.traffic.loadSec, 3); // first publish t0+500 → stop t0+3500
  assert.equal(fin.traffic.sentPerSec, 100); // 300 ÷ 3 s, not 10 ÷ 0.15 s
  assert.equal(fin.traffic.ackedPerSec, 100);
  assert.equal(agg.timeline.at(-1)!.sentPerSec, 100);
});

test('collapse: connections below the share of the peak for the window, once, with the dominant cause', () => {
  const d = new CollapseDetector(0.5, 3);
  const base = { qos: 0 as const, sentDelta: 10, ackedDelta: 0, inFlight: 0, peakConnected: 100, expected: 100 };
  assert.equal(d.update({ ...base, at: 0, elapsedSec: 0, connected: 100, byCause: {} }), null);
  assert.equal(d.update({ ...base, at: 1000, elapsedSec: 1, connected: 20, byCause: { 'server closed': 80, 'refused: x': 2 } }), null);
  assert.equal(d.update({ ...base, at: 3000, elapsedSec: 3, connected: 10, byCause: { 'server closed': 85, 'refused: x': 10 } }), null);
  const c = d.update({ ...base, at: 4000, elapsedSec: 4, connected: 10, byCause: { 'server closed': 85, 'refused: x': 12 } });
  assert.ok(c);
  assert.equal(c.kind, 'connections');
  assert.equal(c.elapsedSec, 1);
  assert.equal(c.dominantCause, 'server closed');
  // recorded once: a later recovery or second collapse does not change it
  assert.equal(d.update({ ...base, at: 9000, elapsedSec: 9, connected: 100, byCause: {} }), c);
});

test('collapse: its time and its counts are those of the same moment (the start of the episode)', () => {
  const d = new CollapseDetector(0.5, 3);
  const base = { qos: 0 as const, sentDelta: 10, ackedDelta: 0, inFlight: 0, expected: 200 };
  d.update({ ...base, at: 0, elapsedSec: 0, connected: 100, peakConnected: 100, byCause: {} });
  d.update({ ...base, at: 1000, elapsedSec: 1, connected: 40, peakConnected: 100, byCause: { 'server closed': 60 } });
  d.update({ ...base, at: 2000, elapsedSec: 2, connected: 25, peakConnected: 100, byCause: { 'server closed': 75 } });
  const c = d.update({ ...base, at: 4000, elapsedSec: 4, connected: 5, peakConnected: 100, byCause: { 'server closed': 95 } });
  assert.ok(c);
  assert.equal(c.at, new Date(1000).toISOString());
  assert.equal(c.elapsedSec, 1);
  assert.equal(c.connectedAtCollapse, 40, 'connected at +1 s, when it began, not at the detection (+4 s)');
  assert.equal(c.peakConnected, 100);
  // acks: the peak is that of the moment the acks stopped too
  const a = new CollapseDetector(0.5, 2);
  let r = null;
  for (let t = 0; t < 5; t++) {
    const connected = 50 + t * 10;
    const acks = { qos: 1 as const, sentDelta: 100, ackedDelta: 0, inFlight: 100 * (t + 1) };
    r = a.update({ at: t * 1000, elapsedSec: t, connected, peakConnected: connected, expected: 200, ...acks, byCause: {} });
  }
  assert.equal(r?.kind, 'acks');
  assert.deepEqual([r?.at, r?.connectedAtCollapse, r?.peakConnected], [new Date(0).toISOString(), 50, 50]);
});

test('collapse: a deliberate ramp-down or pause is not a collapse; acks stopping at QoS 1 is', () => {
  const d = new CollapseDetector(0.5, 2);
  for (let t = 0; t < 10; t++)
    assert.equal(
      d.update({
        at: t * 1000,
        elapsedSec: t,
        connected: 10,
        peakConnected: 100,
        expected: 10,
        qos: 0,
        sentDelta: 1,
        ackedDelta: 0,
        inFlight: 0,
        byCause: {},
      }),
      null,
    );
  const a = new CollapseDetector(0.5, 2);
  let c = null;
  for (let t = 0; t < 5; t++)
    c = a.update({
      at: t * 1000,
      elapsedSec: t,
      connected: 100,
      peakConnected: 100,
      expected: 100,
      qos: 1,
      sentDelta: 100,
      ackedDelta: 0,
      inFlight: 100 * (t + 1),
      byCause: {},
    });
  assert.equal(c?.kind, 'acks');
  assert.equal(c?.dominantCause, 'no PUBACKs (server stalled?)');
  assert.equal(dominantCause({ a: 5 }, { a: 6, b: 3 }), 'b');
});

test('generator health: verdicts from schedule lag and CPU saturation, with notes', () => {
  const ok = generatorHealth({
    scheduleLagP99Ms: 6,
    eventLoopDelayP99Ms: 10,
    secondsBehind: 0,
    secondsSaturated: 0,
    cpuPercent: 30,
    rssMB: 80,
    crashedShards: 0,
  });
  assert.equal(ok.verdict, 'ok');
  assert.deepEqual(ok.notes, []);
  assert.equal(
    generatorHealth({
      scheduleLagP99Ms: 80,
      eventLoopDelayP99Ms: 10,
      secondsBehind: 3,
      secondsSaturated: 0,
      cpuPercent: 30,
      rssMB: 80,
      crashedShards: 0,
    }).verdict,
    'lagging',
  );
  const over = generatorHealth({
    scheduleLagP99Ms: 2500,
    eventLoopDelayP99Ms: 900,
    secondsBehind: 30,
    secondsSaturated: 30,
    cpuPercent: 99,
    rssMB: 80,
    crashedShards: 1,
  });
  assert.equal(over.verdict, 'overloaded');
  assert.ok(over.notes.some((n) => n.includes('crashed')));
});
