// The gateway's control messages (ThingsBoard's gateway MQTT API,
// https://thingsboard.io/docs/reference/gateway-mqtt-api/): a child's connect and disconnect and the
// children's client attributes, each one QoS 1 PUBLISH. They are rare (once per child session), so
// they are encoded into a fresh buffer; telemetry, the hot path, is built by GatewayBatch.
import { framePacket, writeField, type MqttVersion } from './packets.js';

export const GATEWAY_CONNECT_TOPIC = 'v1/gateway/connect';
export const GATEWAY_DISCONNECT_TOPIC = 'v1/gateway/disconnect';
export const GATEWAY_ATTRIBUTES_TOPIC = 'v1/gateway/attributes';

/** A QoS 1 PUBLISH of `payload` (UTF-8) on `topic` with `packetId`. */
export function encodeQos1Publish(topic: string, payload: string, packetId: number, version: MqttVersion): Buffer {
  const t = Buffer.from(topic, 'utf8');
  const p = Buffer.byteLength(payload, 'utf8');
  const { buf, off: body } = framePacket(0x32, 2 + t.length + 2 + (version === '5' ? 1 : 0) + p);
  let off = buf.writeUInt16BE(packetId, writeField(buf, body, t));
  if (version === '5') buf[off++] = 0;
  buf.write(payload, off, 'utf8');
  return buf;
}

/** `{"device":"<child>"}`: the body of a connect and of a disconnect (ThingsBoard's `type` defaults to `default`). */
export const childMessage = (child: string): string => JSON.stringify({ device: child });
