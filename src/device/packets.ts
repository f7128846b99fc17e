// MQTT packets the device side writes: CONNECT through mqtt-packet (once per connect, not hot),
// PUBLISH hand-encoded into one pooled buffer per message (node-probes.md Q2: 1.4–2.1× less CPU
// than a generic client), PINGREQ and DISCONNECT as constant bytes.
import mqttPacket from 'mqtt-packet';
import type { DeviceCredentials } from '../shared/fleet.js';

export type MqttVersion = '3.1.1' | '5';

/** ThingsBoard's device telemetry topic (thingsboard-api.md §5.3). */
export const TELEMETRY_TOPIC = 'v1/devices/me/telemetry';

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT_V311 = Buffer.from([0xe0, 0x00]);
/** MQTT 5 DISCONNECT, reason 0x00 normal, no properties. */
export const DISCONNECT_V5 = Buffer.from([0xe0, 0x01, 0x00]);

export interface ConnectOptions {
  credentials: DeviceCredentials;
  /** Client id when the credentials do not carry one. */
  clientId: string;
  keepaliveSec: number;
  version: MqttVersion;
}

export function encodeConnect(o: ConnectOptions): Buffer {
  const c = o.credentials;
  let username: string | undefined;
  let password: Buffer | undefined;
  let clientId = o.clientId;
  if (c.type === 'ACCESS_TOKEN') username = c.token;
  else if (c.type === 'MQTT_BASIC') {
    username = c.username ?? undefined;
    password = c.password ? Buffer.from(c.password) : undefined;
    clientId = c.clientId ?? clientId;
  }
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: o.version === '5' ? 5 : 4,
    clean: true,
    clientId,
    keepalive: o.keepaliveSec,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  });
}

type FastBuffer = Buffer & { latin1Write(s: string, off: number): number; utf8Write(s: string, off: number): number };

/** Bytes of the MQTT variable-length "remaining length" field. */
export function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

function writeVarint(buf: Buffer, off: number, n: number): number {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n > 0) b |= 0x80;
    buf[off++] = b;
  } while (n > 0);
  return off;
}

/**
 * Encodes PUBLISH packets for one topic, QoS and protocol version. The topic bytes are encoded
 * once; each call allocates exactly one (pooled) Buffer and writes the payload string into it.
 */
export class PublishEncoder {
  private readonly topic: Buffer;
  private readonly first: number;
  /** topic length prefix + topic + packet id (QoS 1) + property length (MQTT 5) */
  private readonly fixedVar: number;

  constructor(topic: string, readonly qos: 0 | 1, readonly version: MqttVersion) {
    const t = Buffer.from(topic, 'utf8');
    this.topic = Buffer.allocUnsafe(2 + t.length);
    this.topic.writeUInt16BE(t.length, 0);
    t.copy(this.topic, 2);
    this.first = 0x30 | (qos << 1);
    this.fixedVar = this.topic.length + (qos ? 2 : 0) + (version === '5' ? 1 : 0);
  }

  /**
   * @param payload the message body
   * @param ascii true when `payload` is known to be 7-bit (then its length is its byte length)
   * @param packetId 1..65535, ignored at QoS 0
   */
  encode(payload: string, ascii: boolean, packetId: number): Buffer {
    const plen = ascii ? payload.length : Buffer.byteLength(payload, 'utf8');
    const rem = this.fixedVar + plen;
    const buf = Buffer.allocUnsafe(1 + varintSize(rem) + rem);
    buf[0] = this.first;
    let off = writeVarint(buf, 1, rem);
    off += this.topic.copy(buf, off);
    if (this.qos) {
      buf[off++] = packetId >>> 8;
      buf[off++] = packetId & 0xff;
    }
    if (this.version === '5') buf[off++] = 0;
    // the unchecked writers skip Buffer#write's argument juggling (hot path)
    if (ascii) (buf as FastBuffer).latin1Write(payload, off);
    else (buf as FastBuffer).utf8Write(payload, off);
    return buf;
  }
}
