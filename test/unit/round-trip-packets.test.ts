// The device side of the rpc and attributes workloads: the packets it writes (SUBSCRIBE, PUBLISH
// QoS 0, PUBACK) read back by mqtt-packet, the server publishes it reads (as mqtt-packet writes
// them, MQTT 5 properties included), the open-model call schedule, and how ThingsBoard's expiry
// answers (AbstractRpcController#reply) become causes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { parseMqtt } from '../helpers/mqtt-parse.js';
import { encodePublish0, encodePuback, encodeSubscribe, readPublish } from '../../src/device/packets-down.js';
import { CallSchedule, callKey } from '../../src/device/call-schedule.js';
import { expiryCause } from '../../src/device/rpc-overlay.js';
import { OverlaySet } from '../../src/device/overlay-set.js';
import type { SessionOverlay } from '../../src/device/overlay.js';

for (const [version, pv] of [
  ['3.1.1', 4],
  ['5', 5],
] as const) {
  test(`MQTT ${version}: SUBSCRIBE, PUBLISH QoS 0 and PUBACK read back; server PUBLISH (QoS 1) read`, () => {
    const [sub] = parseMqtt(encodeSubscribe(65535, ['v1/devices/me/rpc/request/+', 'v1/devices/me/attributes'], 0, version), pv);
    assert.equal(sub.cmd, 'subscribe');
    assert.equal((sub as mqttPacket.ISubscribePacket).messageId, 65535);
    assert.deepEqual(
      (sub as mqttPacket.ISubscribePacket).subscriptions.map((s) => [s.topic, s.qos]),
      [
        ['v1/devices/me/rpc/request/+', 0],
        ['v1/devices/me/attributes', 0],
      ],
    );
    const [pub] = parseMqtt(
      encodePublish0('v1/devices/me/rpc/response/7', '{"k":3,"ok":true}', version),
      pv,
    ) as mqttPacket.IPublishPacket[];
    assert.deepEqual([pub.topic, pub.qos, pub.payload.toString()], ['v1/devices/me/rpc/response/7', 0, '{"k":3,"ok":true}']);
    const [ack] = parseMqtt(encodePuback(513), pv) as mqttPacket.IPubackPacket[];
    assert.deepEqual([ack.cmd, ack.messageId], ['puback', 513]);

    const down = mqttPacket.generate(
      {
        cmd: 'publish',
        topic: 'v1/devices/me/rpc/request/12',
        payload: '{"method":"tblabRpc","params":{"k":9}}',
        qos: 1,
        messageId: 44,
        dup: false,
        retain: false,
        ...(pv === 5 ? { properties: { payloadFormatIndicator: true } } : {}),
      },
      { protocolVersion: pv },
    );
    const body = down.subarray(2); // fixed header: 1 byte + 1-byte length (short packet)
    assert.deepEqual(readPublish(down[0] & 0x0f, body, 0, body.length, version), {
      topic: 'v1/devices/me/rpc/request/12',
      payload: '{"method":"tblabRpc","params":{"k":9}}',
      packetId: 44,
    });
    assert.equal(readPublish(0, Buffer.from([0, 9, 0x61]), 0, 3, version), null, 'a topic longer than the packet');
  });
}

test('open-model schedule: call k is due at origin + k/rate, late ticks fire the missed calls with their own times', () => {
  const s = new CallSchedule(100);
  const fired: number[] = [];
  s.run(1000, (at) => fired.push(at));
  assert.deepEqual(fired, [1000]);
  s.run(1035, (at) => fired.push(at));
  assert.deepEqual(fired, [1000, 1010, 1020, 1030]);
  s.run(1035, (at) => fired.push(at));
  assert.equal(fired.length, 4, 'nothing twice');
  const none = new CallSchedule(0);
  none.run(5000, () => assert.fail('rate 0 never fires'));
  assert.equal(callKey('{"method":"m","params":{"k":5}}', 'params'), 5);
  assert.equal(callKey('{"k":6,"ok":true}', 'top'), 6);
  assert.equal(callKey('not json', 'top'), null);
});

test('ThingsBoard expiry answers by cause: 408/409 (v1), 504 split by whether the device received it', () => {
  assert.equal(expiryCause(408, true), '408 timeout (delivered, no response)');
  assert.equal(expiryCause(409, false), '409 no active connection');
  assert.equal(expiryCause(504, true), '504 timeout (delivered, no response)');
  assert.equal(expiryCause(504, false), '504 timeout (never delivered)');
  assert.equal(expiryCause(500, false), null);
});

for (const [version, pv] of [
  ['3.1.1', 4],
  ['5', 5],
] as const) {
  test(`MQTT ${version}: a QoS 1 push to a device row is handed to its overlay (measured) and answered with its PUBACK`, () => {
    // ThingsBoard pushes at the subscription's granted QoS, QoS 1 on a topic with no subscription
    // (MqttDeviceAwareSessionContext#getQoSForTopic); the lab subscribes at QoS 0 but must acknowledge a QoS 1 one
    const set = new OverlaySet(2, version);
    const got: [number, string, string, number][] = [];
    const overlay: SessionOverlay = {
      name: 'attributes',
      topics: ['v1/devices/me/attributes'],
      subscribed: () => {},
      down: () => {},
      message: (i, topic, payload, at) => topic === 'v1/devices/me/attributes' && got.push([i, topic, payload, at]) > 0,
      setToken: () => {},
      stopCalls: () => {},
      busy: () => false,
      close: async () => {},
    };
    set.add(overlay);
    const push = (qos: 0 | 1, messageId?: number) => {
      const pk = mqttPacket.generate(
        { cmd: 'publish', topic: 'v1/devices/me/attributes', payload: '{"mode":"eco"}', qos, messageId, dup: false, retain: false },
        { protocolVersion: pv },
      );
      const body = pk.subarray(2);
      return set.publish(1, pk[0] & 0x0f, body, 0, body.length, 1234);
    };
    const ack = push(1, 4097);
    assert.ok(ack instanceof Buffer);
    const [puback] = parseMqtt(ack, pv) as mqttPacket.IPubackPacket[];
    assert.deepEqual([puback.cmd, puback.messageId], ['puback', 4097]);
    assert.equal(push(0), null, 'QoS 0: nothing to acknowledge');
    assert.deepEqual(got, [
      [1, 'v1/devices/me/attributes', '{"mode":"eco"}', 1234],
      [1, 'v1/devices/me/attributes', '{"mode":"eco"}', 1234],
    ]);
    assert.equal(set.strayPublishes, 0);
  });
}
