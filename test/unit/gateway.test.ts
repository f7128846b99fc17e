// The gateway workload's pure parts: the batch PUBLISH (read back by mqtt-packet), the control
// messages, the pending-ack table, shard slices that keep a gateway whole, the children's names
// and fleet, and the name prefix the delivery check lists children by.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mqttPacket from 'mqtt-packet';
import { GatewayBatch, GATEWAY_TELEMETRY_TOPIC, QuotedNames } from '../../src/device/gateway-batch.js';
import { encodeQos1Publish } from '../../src/device/gateway-packets.js';
import { PendingAcks, PendingPool, PubKind } from '../../src/device/gateway-acks.js';
import { TelemetryPayload, type PayloadSource } from '../../src/device/payload.js';
import { keepGatewaysWhole, planShards } from '../../src/engine/plan.js';
import { childName, gatewayFleet, gatewayName } from '../../src/lab/gateway-fleet.js';
import { commonPrefix } from '../../src/lab/delivery/children.js';
import { LabError } from '../../src/common/errors.js';
import { startRun, type RunHandle } from '../../src/lab/pipeline/start.js';
import { assignWorkloads } from '../../src/lab/workload-fleet.js';
import { testConfig } from '../helpers/engine.js';
import { parseMqtt } from '../helpers/mqtt-parse.js';

function parse(buf: Buffer, protocolVersion: 4 | 5): mqttPacket.IPublishPacket {
  const out = parseMqtt(buf, protocolVersion);
  assert.equal(out.length, 1);
  return out[0] as mqttPacket.IPublishPacket;
}

const names = ['gw-g001-d0001', 'gw-g001-d0002', 'gw-g001-d0003'];
const devices = names.map((name, i) => ({ name, index: i + 1 }));

for (const [version, pv] of [
  ['3.1.1', 4],
  ['5', 5],
] as const) {
  test(`gateway batch, MQTT ${version}: one PUBLISH {"child":[{"ts","values"}…]}, a child's messages in one array`, () => {
    const b = new GatewayBatch(1, version, new TelemetryPayload(devices), new QuotedNames(names));
    let bytes = 0;
    bytes += b.append(0, 1, 1_700_000_000_000);
    b.closeRow();
    bytes += b.append(2, 7, 1_700_000_000_001);
    bytes += b.append(2, 8, 1_700_000_000_002);
    b.closeRow();
    assert.equal(b.entries, 3);
    const p = parse(b.take(4242), pv);
    b.written(true);
    assert.equal(p.topic, GATEWAY_TELEMETRY_TOPIC);
    assert.equal(p.qos, 1);
    assert.equal(p.messageId, 4242);
    const body = JSON.parse(p.payload.toString()) as Record<string, Array<{ ts: number; values: Record<string, unknown> }>>;
    assert.deepEqual(Object.keys(body), ['gw-g001-d0001', 'gw-g001-d0003']);
    assert.deepEqual(
      body['gw-g001-d0003'].map((e) => [e.ts, e.values.sequence, e.values.device]),
      [
        [1_700_000_000_001, 7, 'gw-g001-d0003'],
        [1_700_000_000_002, 8, 'gw-g001-d0003'],
      ],
    );
    assert.ok(bytes < p.payload.length && bytes > p.payload.length - 10, 'the entries are the payload but its braces');
    assert.equal(b.open, false);
  });
}

test('gateway batch: a batch past 16 KB (3-byte length), string payloads, the buffer reused or kept while a write is pending', () => {
  const many = Array.from({ length: 200 }, (_, i) => `c${i}`);
  const text: PayloadSource = { ascii: false, next: (i, seq) => JSON.stringify({ sequence: seq, note: 'é'.repeat(50), i }) };
  const b = new GatewayBatch(0, '3.1.1', text, new QuotedNames(many));
  let bytes = 0;
  for (let i = 0; i < 200; i++) {
    bytes += b.append(i, 1, 5);
    b.closeRow();
  }
  const first = b.take(0);
  assert.ok(first.length > 16_384);
  const p = parse(first, 4);
  assert.equal(p.qos, 0);
  const body = JSON.parse(p.payload.toString());
  assert.equal(Object.keys(body).length, 200);
  assert.equal(body.c199[0].values.i, 199);
  assert.ok(bytes > 0 && bytes < first.length, `entry sizes add up below the packet's (${bytes} of ${first.length})`);
  // still queued in the socket: the next batch must not overwrite it
  const copy = Buffer.from(first);
  b.written(false);
  b.append(0, 2, 6);
  b.closeRow();
  b.take(0);
  assert.deepEqual(first, copy);
});

test('control messages: connect/disconnect/attributes are QoS 1 PUBLISHes mqtt-packet reads back', () => {
  for (const [version, pv] of [
    ['3.1.1', 4],
    ['5', 5],
  ] as const) {
    const p = parse(encodeQos1Publish('v1/gateway/connect', '{"device":"sim-g001-d0001"}', 65535, version), pv);
    assert.equal(p.topic, 'v1/gateway/connect');
    assert.equal(p.messageId, 65535);
    assert.equal(p.qos, 1);
    assert.deepEqual(JSON.parse(p.payload.toString()), { device: 'sim-g001-d0001' });
  }
});

test('pending acks: ids skip the pending ones, a PUBACK is taken once (a second for the same id is ignored)', () => {
  const pool = new PendingPool();
  const acks = new PendingAcks(pool);
  const a = pool.get(PubKind.TELEMETRY);
  for (let k = 0; k < 20; k++) a.add(k, k + 100);
  const id = acks.nextId();
  acks.track(id, a);
  const got = acks.take(id)!;
  assert.equal(got.n, 20);
  assert.equal(got.rows[19], 19);
  assert.equal(got.ids[19], 119);
  assert.equal(acks.take(id), undefined);
  pool.put(got);
  // wrap-around: an id still pending is never handed out again
  const held = pool.get(PubKind.CONNECT);
  acks.track(acks.nextId(), held); // id 2
  for (let k = 0; k < 65533; k++) acks.nextId();
  assert.equal(acks.nextId(), 1);
  assert.equal(acks.nextId(), 3, 'id 2 is pending');
  let drained = 0;
  acks.drain(() => drained++);
  assert.equal(drained, 1);
  assert.equal(acks.size, 0);
});

test('shard slices keep every gateway whole; plain devices are sliced as before', () => {
  const fleet = Array.from({ length: 20 }, (_, k) => ({ gateway: { name: `g${Math.floor(k / 7)}` } }));
  const slices = keepGatewaysWhole(planShards(20, 4, 15_000), fleet);
  assert.deepEqual(
    slices.map((s) => [s.id, s.start, s.end]),
    [
      [0, 0, 7],
      [1, 7, 14],
      [2, 14, 20],
    ],
  );
  const plain = planShards(10, 3, 15_000);
  assert.deepEqual(
    keepGatewaysWhole(
      plain,
      Array.from({ length: 10 }, () => ({})),
    ),
    plain,
  );
});

test('gateway fleet: names, indices, shared slot per gateway, instance slices by gateway, missing gateways refused', () => {
  assert.equal(gatewayName('sim', 7), 'sim-g007');
  assert.equal(childName('sim', 7, 42), 'sim-g007-d0042');
  const file = {
    version: 1 as const,
    server: 'http://x',
    prefix: 'sim',
    deviceProfileId: null,
    updatedAt: '',
    devices: Object.fromEntries(
      [1, 2, 3, 4].map((g) => [
        gatewayName('sim', g),
        { index: g, id: `id${g}`, credentials: { type: 'ACCESS_TOKEN' as const, token: `t${g}` } },
      ]),
    ),
  };
  const all = gatewayFleet(file, { prefix: 'sim', gateways: 4, children: 3, instance: null, source: 'f' });
  assert.equal(all.fleet.length, 12);
  assert.equal(all.fleetSize, 12);
  const c = all.fleet[4];
  assert.deepEqual([c.name, c.index, c.id, c.phase, c.gateway], ['sim-g002-d0002', 5, '', 0.25, { name: 'sim-g002', index: 2 }]);
  assert.deepEqual(c.credentials, { type: 'ACCESS_TOKEN', token: 't2' });
  const second = gatewayFleet(file, { prefix: 'sim', gateways: 4, children: 3, instance: { index: 2, count: 2 }, source: 'f' });
  assert.deepEqual(
    second.gateways.map((g) => g.name),
    ['sim-g003', 'sim-g004'],
  );
  assert.equal(second.fleet[0].name, 'sim-g003-d0001');
  assert.throws(
    () => gatewayFleet(file, { prefix: 'sim', gateways: 6, children: 3, instance: null, source: 'f' }),
    (e: unknown) => e instanceof LabError && e.code === 'NO_FLEET' && /2 of the 6 gateway\(s\).*sim-g005/.test(e.message),
  );
});

test('the run pipeline refuses gateway children whose workload was not assigned (they would connect as devices)', (t) => {
  const gateway = { name: gatewayName('sim', 1), index: 1 };
  const fleet = [1, 2].map((c) => ({
    name: childName('sim', 1, c),
    index: c,
    id: '',
    credentials: { type: 'ACCESS_TOKEN' as const, token: 't1' },
    gateway,
  }));
  const config = testConfig(t, {});
  let run: RunHandle | undefined;
  t.after(() => run?.stop('test end'));
  assert.throws(() => (run = startRun({ config, fleet, writeFiles: false })), /workloads assigned \(assignWorkloads\)/);
  assert.ok(assignWorkloads(fleet, config.workloads).every((d) => d.workload === 'gateway'));
});

test('children are listed by their names’ common prefix', () => {
  assert.equal(commonPrefix(['sim-g001-d0001', 'sim-g020-d0050']), 'sim-g0');
  assert.equal(commonPrefix(['only']), 'only');
  assert.equal(commonPrefix([]), '');
});
