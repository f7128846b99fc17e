// The outcome of a finished run from what it measured (issue 20 #7): no connection → failed with
// the cause and a hint naming the MQTT keys; a crashed shard → degraded; a stop before any attempt
// stays aborted; a checkpoint stays partial.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeOutcome, connectFailureHint } from '../../src/report/outcome.js';
import type { RunResults } from '../../src/metrics/records.js';
import type { MetricsSnapshot, ShardStatus } from '../../src/metrics/snapshot.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';

function run(connections: Partial<MetricsSnapshot['connections']>, o: { outcome?: RunResults['outcome']; shards?: ShardStatus[] } = {}) {
  const base = fixtureSnapshot();
  const final: MetricsSnapshot = { ...base, connections: { ...base.connections, ...connections } };
  const results = {
    runId: 'r',
    startedAt: 0,
    endedAt: 1,
    outcome: o.outcome ?? 'completed',
    endReason: 'duration reached',
    final,
    timeline: [],
    devices: {},
    histograms: { ackMs: null, connectMs: null, scheduleLagMs: null },
    notes: [],
    files: { events: [], metrics: [] },
    shards: o.shards ?? [{ id: 0, pid: 1, state: 'done', devices: 10, connected: 0 }],
  } satisfies RunResults;
  return judgeOutcome(results, final);
}

const none = { configured: 10, paused: 0, succeeded: 0, connected: 0, peakConnected: 0 };

test('no device connected: failed, the dominant cause, the code and exit by cause', () => {
  const refused = run({ ...none, attempts: 30, failed: 30, byOutcome: { ECONNREFUSED: 28, 'connect timeout': 2 } });
  assert.equal(refused.outcome, 'failed');
  assert.equal(refused.problem?.code, 'NO_CONNECTION');
  assert.equal(refused.problem?.exitCode, 3);
  assert.match(refused.problem!.message, /ECONNREFUSED \(28 of 30 attempts\)/);
  assert.match(refused.problem!.hint, /MQTT_HOST and MQTT_PORT/);
  assert.match(refused.endReason, /^duration reached; no device connected: ECONNREFUSED$/);

  const auth = run({ ...none, attempts: 10, failed: 10, byOutcome: { 'refused: not authorized (5)': 10 } });
  assert.deepEqual([auth.problem?.code, auth.problem?.exitCode], ['MQTT_REFUSED', 4]);
  assert.match(auth.problem!.hint, /tblab provision/);

  const pending = run({ ...none, attempts: 10, failed: 0, byOutcome: {} });
  assert.match(pending.problem!.message, /no CONNACK/);

  // Ctrl+C while every connect fails is still a run that delivered nothing
  assert.equal(run({ ...none, attempts: 10, failed: 10, byOutcome: { ECONNREFUSED: 10 } }, { outcome: 'aborted' }).outcome, 'failed');
  // stopped before any device tried, or a fleet that is all paused: not the target's fault
  assert.equal(run({ ...none, attempts: 0, byOutcome: {} }, { outcome: 'aborted' }).outcome, 'aborted');
  assert.equal(run({ ...none, paused: 10, attempts: 0, byOutcome: {} }).outcome, 'completed');
  assert.equal(run({ ...none, attempts: 10, byOutcome: { ECONNREFUSED: 10 } }, { outcome: 'partial' }).outcome, 'partial');
});

test('hints name the keys for each connect failure', () => {
  const plain = { mqtt: 'mqtt://h:1883', rest: null, qos: 1 as const, mqttVersion: '3.1.1', publishIntervalSec: 1 };
  const tls = { ...plain, mqtt: 'mqtts://h:1883' };
  assert.match(connectFailureHint('SELF_SIGNED_CERT_IN_CHAIN', tls), /MQTT_CA_FILE/);
  assert.match(connectFailureHint('DEPTH_ZERO_SELF_SIGNED_CERT', tls), /MQTT_CA_FILE/);
  assert.match(connectFailureHint('ERR_TLS_CERT_ALTNAME_INVALID', tls), /MQTT_HOST/);
  assert.match(connectFailureHint('ECONNRESET', tls), /MQTT_TLS=1 but MQTT_PORT may be a plain MQTT port/);
  assert.match(connectFailureHint('server closed', plain), /set MQTT_TLS=1/);
  assert.match(connectFailureHint('ENOTFOUND', plain), /MQTT_HOST/);
});

test('a crashed shard that took part of the fleet: degraded, exit 7; an aborted run stays aborted', () => {
  const shards: ShardStatus[] = [
    { id: 0, pid: 1, state: 'done', devices: 6, connected: 0 },
    { id: 1, pid: 2, state: 'crashed', devices: 4, connected: 0, exit: 'signal SIGKILL' },
  ];
  const ok = { configured: 10, paused: 0, succeeded: 10, attempts: 10, byOutcome: { accepted: 10 } };
  const d = run(ok, { shards });
  assert.deepEqual([d.outcome, d.problem?.code, d.problem?.exitCode], ['degraded', 'RUN_DEGRADED', 7]);
  assert.match(d.problem!.message, /^shard 1 \(signal SIGKILL\) crashed and took 4 of 10 devices with it/);
  assert.equal(run(ok, { shards, outcome: 'aborted' }).outcome, 'aborted');
  assert.equal(run(ok).problem, null);
});
