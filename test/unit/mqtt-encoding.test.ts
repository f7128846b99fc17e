import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { parseMqtt } from '../helpers/mqtt-parse.js';
import { PublishWriter, TELEMETRY_TOPIC, encodeConnect, varintSize } from '../../src/device/packets.js';
import { TelemetryPayload, type PayloadSource } from '../../src/device/payload.js';
import { FrameReader, PacketType } from '../../src/device/frame-reader.js';
import { connackCause, disconnectReasonCause, socketErrorCause } from '../../src/device/causes.js';

/** A payload source that returns given texts (the string path of PublishWriter). */
function texts(list: string[]): PayloadSource {
  return { ascii: list.every((t) => /^[\x00-\x7f]*$/.test(t)), next: (i) => list[i] };
}

for (const [version, pv] of [
  ['3.1.1', 4],
  ['5', 5],
] as const) {
  for (const qos of [0, 1] as const) {
    test(`PUBLISH encoding, MQTT ${version}, QoS ${qos}: mqtt-packet reads back topic, id and payload`, () => {
      const payloads = ['{"a":1}', 'x'.repeat(200), 'y'.repeat(20000), '{"t":"température"}'];
      const w = new PublishWriter(TELEMETRY_TOPIC, qos, version, texts(payloads), 1024);
      payloads.forEach((payload, i) => {
        const size = w.append(i, 1, 0, 513);
        const buf = w.take();
        assert.equal(buf.length, size);
        const [p] = parseMqtt(buf, pv) as mqttPacket.IPublishPacket[];
        w.written(true);
        assert.equal(p.cmd, 'publish');
        assert.equal(p.topic, TELEMETRY_TOPIC);
        assert.equal(p.qos, qos);
        if (qos) assert.equal(p.messageId, 513);
        assert.equal(Buffer.from(p.payload as Buffer).toString('utf8'), payload);
      });
    });
  }
}

test('PUBLISH writer: telemetry written in place, several per take, a queued write is never overwritten', () => {
  const devices = [
    { name: 'sim-001', index: 1 },
    { name: 'appareil-é', index: 2 },
  ];
  const w = new PublishWriter(TELEMETRY_TOPIC, 1, '3.1.1', new TelemetryPayload(devices), 512);
  const held: Array<{ buf: Buffer; copy: Buffer }> = [];
  for (let round = 1; round <= 50; round++) {
    let size = w.append(0, round, 1_700_000_000_000 + round, round);
    size += w.append(1, round, 1_700_000_000_000 + round, 1000 + round);
    const buf = w.take();
    assert.equal(buf.length, size);
    const packets = parseMqtt(buf, 4) as mqttPacket.IPublishPacket[];
    assert.deepEqual(
      packets.map((p) => p.messageId),
      [round, 1000 + round],
    );
    const bodies = packets.map((p) => JSON.parse(Buffer.from(p.payload as Buffer).toString('utf8')));
    const at = new Date(1_700_000_000_000 + round).toISOString();
    assert.deepEqual(
      bodies.map((b) => [b.device, b.sequence, b.timestamp]),
      [
        ['sim-001', round, at],
        ['appareil-é', round, at],
      ],
    );
    // every third write stays queued in its socket: its bytes must survive what follows
    const queued = round % 3 === 0;
    if (queued) held.push({ buf, copy: Buffer.from(buf) });
    w.written(!queued);
  }
  for (const h of held) assert.ok(h.buf.equals(h.copy));
});

test('CONNECT: access token as user name, MQTT_BASIC fields, version and keepalive', () => {
  const [c] = parseMqtt(
    encodeConnect({ credentials: { type: 'ACCESS_TOKEN', token: 'T0K' }, clientId: 'c1', keepaliveSec: 30, version: '3.1.1' }),
    4,
  ) as mqttPacket.IConnectPacket[];
  assert.equal(c.username, 'T0K');
  assert.equal(c.clientId, 'c1');
  assert.equal(c.clean, true);
  assert.equal(c.password, undefined);
  assert.equal(c.keepalive, 30);
  assert.equal(c.protocolVersion, 4);
  const [b] = parseMqtt(
    encodeConnect({
      credentials: { type: 'MQTT_BASIC', clientId: 'cid', username: 'u', password: 'p' },
      clientId: 'c1',
      keepaliveSec: 60,
      version: '5',
    }),
    5,
  ) as mqttPacket.IConnectPacket[];
  assert.equal(b.clientId, 'cid');
  assert.equal(b.username, 'u');
  assert.equal(String(b.password), 'p');
  assert.equal(b.protocolVersion, 5);
  assert.equal(varintSize(127), 1);
  assert.equal(varintSize(128), 2);
  assert.equal(varintSize(16_384), 3);
});

test('frame reader: packets split at any byte and coalesced in one chunk come out whole', () => {
  const stream = Buffer.concat([
    mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }),
    mqttPacket.generate({ cmd: 'puback', messageId: 1 }),
    mqttPacket.generate({ cmd: 'puback', messageId: 65535 }),
    mqttPacket.generate({ cmd: 'pingresp' }),
    mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(300, 1), qos: 0, retain: false, dup: false }),
  ]);
  const expected = [
    [PacketType.CONNACK, 0],
    [PacketType.PUBACK, 1],
    [PacketType.PUBACK, 65535],
    [PacketType.PINGRESP, -1],
    [PacketType.PUBLISH, -1],
  ];
  for (let cut = 0; cut <= stream.length; cut++) {
    const got: number[][] = [];
    const r = new FrameReader({
      onFrame: (type, _f, buf, start, len) =>
        got.push([type, type === PacketType.PUBACK ? buf.readUInt16BE(start) : type === PacketType.CONNACK ? buf[start + 1] : -1, len]),
      onMalformed: (why) => assert.fail(why),
    });
    r.push(stream.subarray(0, cut));
    r.push(stream.subarray(cut));
    assert.deepEqual(
      got.map((g) => g.slice(0, 2)),
      expected,
      `cut at ${cut}`,
    );
    assert.equal(got[4][2], 303);
    // the socket `onread` shape: both parts arrive in one reused buffer, `n` bytes valid, junk after
    const shared = Buffer.alloc(stream.length + 16, 0xee);
    const viaShared: number[][] = [];
    const r2 = new FrameReader({
      onFrame: (type, _f, buf, start) =>
        viaShared.push([type, type === PacketType.PUBACK ? buf.readUInt16BE(start) : type === PacketType.CONNACK ? buf[start + 1] : -1]),
      onMalformed: (why) => assert.fail(why),
    });
    stream.copy(shared, 0, 0, cut);
    r2.push(shared, cut);
    shared.fill(0xee);
    stream.copy(shared, 0, cut);
    r2.push(shared, stream.length - cut);
    assert.deepEqual(viaShared, expected, `shared buffer, cut at ${cut}`);
  }
  const bad: string[] = [];
  new FrameReader({ onFrame: () => {}, onMalformed: (w) => bad.push(w) }).push(Buffer.from([0x40, 0xff, 0xff, 0xff, 0xff, 0x01]));
  assert.equal(bad.length, 1);
});

test('causes: CONNACK codes, MQTT 5 reasons and socket errors map to text and class', () => {
  assert.deepEqual(connackCause(5, false), { cause: 'refused: not authorized (5)', class: 'auth' });
  assert.deepEqual(connackCause(3, false), { cause: 'refused: server unavailable (3)', class: 'server' });
  assert.deepEqual(connackCause(0x9f, true), { cause: 'refused: connection rate exceeded (0x9f)', class: 'rate-limit' });
  assert.equal(disconnectReasonCause(0x8e).cause, 'server disconnect: session taken over (0x8e)');
  assert.equal(socketErrorCause(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' })).class, 'resources');
  assert.equal(socketErrorCause(Object.assign(new Error('x'), { code: 'EMFILE' })).class, 'resources');
  assert.equal(socketErrorCause(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).class, 'network');
});
