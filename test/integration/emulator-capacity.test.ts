// The --capacity model with a real MQTT client: below capacity PUBACKs are prompt, above it they
// wait in the queue (latency grows with it), past the queue bound messages are dropped — counted,
// never stored and never acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmulator, restLogin, createDevice, fetchStats } from '../helpers/emulator.js';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

async function setup(t: Parameters<typeof startEmulator>[0], capacity: number, capacityQueue: number) {
  const emu = await startEmulator(t, { capacity, capacityQueue });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'cap-1', 'CAP1');
  const c = await mqtt.connectAsync(emu.mqttUrl, { username: 'CAP1', reconnectPeriod: 0 });
  t.after(() => c.end(true));
  return { emu, c };
}

/** Publishes `n` QoS 1 messages (sequence 1..n) at once; resolves the ack latency of each acked one. */
function burst(c: MqttClient, n: number, first = 1): Map<number, number> {
  const acked = new Map<number, number>();
  for (let s = first; s < first + n; s++) {
    const at = Date.now();
    c.publish('v1/devices/me/telemetry', JSON.stringify({ sequence: s }), { qos: 1 }, (err) => {
      if (!err) acked.set(s, Date.now() - at);
    });
  }
  return acked;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('below capacity PUBACKs are prompt; above it they wait in the queue and all are stored', async (t) => {
  const { emu, c } = await setup(t, 200, 1000);
  // 40 messages at 100/s: half the capacity
  const slow: number[] = [];
  for (let s = 1; s <= 40; s++) {
    const at = Date.now();
    const pace = new Promise((r) => setTimeout(r, 10));
    await Promise.all([c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ sequence: s }), { qos: 1 }), pace]);
    slow.push(Date.now() - at);
  }
  assert.ok(median(slow) < 40, `median ack latency below capacity ${median(slow)} ms`);
  assert.equal((await fetchStats(emu.restUrl)).capacity?.dropped, 0);
  // 150 at once: 5 ms of work each, so the last waits ~750 ms
  const acked = burst(c, 150, 41);
  await waitFor('all 150 acked', () => acked.size === 150, 10_000, 20);
  const lat = [...acked.entries()].sort((a, b) => a[0] - b[0]).map(([, ms]) => ms);
  const head = median(lat.slice(0, 10));
  const tail = median(lat.slice(-10));
  assert.ok(tail >= 550 && tail > head + 450, `ack latency grows with the queue: first ${head} ms, last ${tail} ms`);
  const s = await fetchStats(emu.restUrl);
  assert.equal(s.messages, 190);
  assert.equal(s.capacity?.dropped, 0);
  assert.ok((s.capacity?.delayed ?? 0) >= 100 && (s.capacity?.maxWaitMs ?? 0) >= 550, JSON.stringify(s.capacity));
  assert.equal(emu.deviceStats('cap-1')?.gaps, 0);
});

test('past the queue bound messages are dropped: counted, not stored, not acknowledged (QoS 1 and 0)', async (t) => {
  const { emu, c } = await setup(t, 200, 50);
  const acked = burst(c, 300);
  await waitFor(
    'all 300 served or dropped',
    async () => {
      const x = await fetchStats(emu.restUrl);
      return x.capacity!.queued === 0 && x.messages + x.capacity!.dropped === 300;
    },
    10_000,
    50,
  );
  await new Promise((r) => setTimeout(r, 200)); // the last PUBACKs on the wire
  const s = await fetchStats(emu.restUrl);
  const dropped = s.capacity!.dropped;
  assert.ok(dropped >= 200 && dropped <= 250, `dropped ${dropped} of 300 with a 50-message queue`);
  assert.equal(s.messages, 300 - dropped, 'stored = offered − dropped');
  assert.equal(acked.size, 300 - dropped, 'acknowledged = stored: no PUBACK for a dropped message');
  const detail = emu.deviceStats('cap-1')!;
  const missing = new Set(detail.missingSequences);
  for (let seq = 1; seq <= detail.maxSequence; seq++) assert.equal(missing.has(seq), !acked.has(seq), `sequence ${seq}`);
  assert.equal(s.faults.ingestDropped, 0, 'not mixed up with the acknowledged-but-lost fault');

  for (let seq = 1; seq <= 300; seq++) c.publish('v1/devices/me/telemetry', JSON.stringify({ q0: seq }), { qos: 0 });
  await waitFor(
    'QoS 0 burst served',
    async () => {
      const x = await fetchStats(emu.restUrl);
      return x.capacity!.queued === 0 && x.messages + x.capacity!.dropped === 600;
    },
    10_000,
    50,
  );
  const after = await fetchStats(emu.restUrl);
  assert.ok(after.capacity!.dropped - dropped >= 200, 'QoS 0 beyond the bound is dropped too');
});

test('tblab emulator --capacity rejects a bad value with the usage code', async (t) => {
  const bad = await tblab(t, ['emulator', '--capacity', 'fast'], { cwd: tmpDir(t, 'tblab-cap-'), timeoutMs: 20_000 });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--capacity expects a number/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});
