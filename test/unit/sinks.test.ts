// The run pipeline's composition rules: each sink returns its own sections (live snapshot and
// report), nobody edits the engine's snapshot, a section owned twice is an error, and the order in
// which sinks are attached changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeLive, type RunSink } from '../../src/lab/pipeline/sink.js';
import { buildReport, mergeSections } from '../../src/report/build.js';
import { emptyPercentiles, type MetricsSnapshot } from '../../src/metrics/snapshot.js';
import type { RunResults } from '../../src/metrics/records.js';
import { consoleProgress } from '../../src/lab/progress.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';

const liveDelivery: MetricsSnapshot['delivery'] = { sampleDevices: 2, ingestLatencyMs: emptyPercentiles(), rateLimitEvents: 0 };
const delivery: RunSink = { name: 'delivery', live: () => ({ delivery: liveDelivery }) };
const watcher: RunSink = { name: 'watcher', snapshot: () => {} };

test('live sections: composed from what sinks return, in any order; the engine snapshot stays as it was', () => {
  const engine = fixtureSnapshot();
  const before = structuredClone(engine);
  const a = composeLive(engine, [delivery, watcher]);
  const b = composeLive(engine, [watcher, delivery]);
  assert.deepEqual(a, b);
  assert.deepEqual(a.delivery, liveDelivery);
  assert.deepEqual(engine, before, 'the engine snapshot is not edited');
  assert.equal(composeLive(engine, [watcher]), engine, 'no live section: the engine snapshot as it is');
  const rival: RunSink = { name: 'rival', live: () => ({ delivery: null }) };
  assert.throws(() => composeLive(engine, [delivery, rival]), /live section delivery returned by both delivery and rival/);
});

function results(): RunResults {
  const final = { ...fixtureSnapshot(), state: 'finished' as const };
  return {
    runId: final.runId,
    startedAt: 1_767_261_600_000,
    endedAt: 1_767_261_612_345,
    outcome: 'completed',
    endReason: 'duration reached',
    final,
    timeline: [],
    devices: {},
    histograms: { ackMs: null, connectMs: null, scheduleLagMs: null },
    notes: [],
    shards: [],
    files: { events: [], metrics: [] },
  };
}

test('report sections: each lands in its place, merged in any order; one section with two owners is an error', () => {
  const thresholds = [{ expression: 'ack_p99<1s', ok: true, actual: 150, limit: 1000, message: '150 ms' }];
  const fromDelivery = { owner: 'delivery', sections: { metricsDelivery: liveDelivery, ingestLatencyHistogram: 'HISTFAKE' } };
  const fromThresholds = { owner: 'thresholds', sections: { thresholds } };
  const one = buildReport(results(), { config: { A: 1 } }, mergeSections([fromDelivery, fromThresholds]));
  const two = buildReport(results(), { config: { A: 1 } }, mergeSections([fromThresholds, fromDelivery]));
  assert.deepEqual({ ...one, machine: null }, { ...two, machine: null });
  assert.deepEqual(one.thresholds, thresholds);
  assert.deepEqual(one.metrics.delivery, liveDelivery);
  assert.equal(one.histograms.ingestLatencyMs, 'HISTFAKE');
  assert.equal(one.delivery, null, 'no sink returned a delivery report');
  assert.equal(one.durationSec, 12.3);
  assert.equal(one.endedAt, new Date(1_767_261_612_345).toISOString());
  const other = { owner: 'other', sections: { thresholds: [] } };
  assert.throws(() => mergeSections([fromThresholds, other]), /thresholds returned by both thresholds and other/);
  const bare = buildReport(results(), { config: {} });
  assert.equal('ingestLatencyMs' in bare.histograms, false, 'no ingest histogram without its owner');
  assert.equal(bare.thresholds, null);
});

test('a checkpoint is a partial report: no end time', () => {
  const r = buildReport({ ...results(), outcome: 'partial', endReason: 'running (checkpoint)' }, { config: {} });
  assert.equal(r.outcome, 'partial');
  assert.equal(r.endedAt, null);
});

test('console progress: one line per period by the injected clock, none for the finished snapshot', () => {
  const lines: string[] = [];
  let now = 10_000;
  const sink = consoleProgress(
    (l) => lines.push(l),
    5000,
    () => now,
  );
  const s = { ...fixtureSnapshot(), state: 'running' as const };
  sink.snapshot!(s);
  now += 1000;
  sink.snapshot!(s);
  now += 5000;
  sink.snapshot!(s);
  sink.snapshot!({ ...s, state: 'finished' });
  assert.equal(lines.length, 2);
  assert.match(lines[0], /running: connected \d+\/\d+, sent \d+/);
});
