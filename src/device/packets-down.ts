// The MQTT packets of the server → device direction and of a device's replies to it: SUBSCRIBE
// (the topics ThingsBoard pushes on), PUBLISH at QoS 0 for small replies (RPC responses, attribute
// requests), PUBACK for a QoS 1 push, and the reading of a PUBLISH the server sends. These are rare
// next to telemetry (a few per RPC call, not per message), so they are plainly allocated.
import { framePacket, writeField, type MqttVersion } from './packets.js';

/** SUBSCRIBE (MQTT 3.1.1 §3.8 / 5.0 §3.8) of `topics`, each at `qos`, no properties. */
export function encodeSubscribe(packetId: number, topics: readonly string[], qos: 0 | 1, version: MqttVersion): Buffer {
  const names = topics.map((t) => Buffer.from(t, 'utf8'));
  const v5 = version === '5';
  const rem = 2 + (v5 ? 1 : 0) + names.reduce((n, b) => n + 2 + b.length + 1, 0);
  const { buf, off: body } = framePacket(0x82, rem);
  let off = buf.writeUInt16BE(packetId, body);
  if (v5) buf[off++] = 0;
  for (const b of names) {
    off = writeField(buf, off, b);
    buf[off++] = qos;
  }
  return buf;
}

/** PUBLISH at QoS 0 (no packet id), no properties. */
export function encodePublish0(topic: string, payload: string, version: MqttVersion): Buffer {
  const t = Buffer.from(topic, 'utf8');
  const p = Buffer.from(payload, 'utf8');
  const rem = 2 + t.length + (version === '5' ? 1 : 0) + p.length;
  const { buf, off: body } = framePacket(0x30, rem);
  let off = writeField(buf, body, t);
  if (version === '5') buf[off++] = 0;
  p.copy(buf, off);
  return buf;
}

/** PUBACK of a QoS 1 PUBLISH from the server (MQTT 5: reason 0 is implied by the short form). */
export function encodePuback(packetId: number): Buffer {
  return Buffer.from([0x40, 0x02, packetId >>> 8, packetId & 0xff]);
}

export interface DownPublish {
  topic: string;
  payload: string;
  /** 0 at QoS 0; else the id to acknowledge. */
  packetId: number;
}

/** Reads a PUBLISH body (`buf[start, start + len)`, after the fixed header); null when malformed. */
export function readPublish(flags: number, buf: Buffer, start: number, len: number, version: MqttVersion): DownPublish | null {
  const end = start + len;
  if (len < 2) return null;
  const tlen = (buf[start] << 8) | buf[start + 1];
  let p = start + 2 + tlen;
  if (p > end) return null;
  const topic = buf.toString('utf8', start + 2, p);
  const qos = (flags >> 1) & 3;
  let packetId = 0;
  if (qos > 0) {
    if (p + 2 > end) return null;
    packetId = (buf[p] << 8) | buf[p + 1];
    p += 2;
  }
  if (version === '5') {
    let plen = 0;
    let mul = 1;
    let b: number;
    do {
      if (p >= end) return null;
      b = buf[p++];
      plen += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    p += plen;
    if (p > end) return null;
  }
  return { topic, payload: buf.toString('utf8', p, end), packetId };
}
