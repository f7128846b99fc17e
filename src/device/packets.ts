// MQTT packets the device side writes: CONNECT (once per connect), PUBLISH hand-encoded into a
// reused buffer (a generic client's encoder allocates per packet: bench/README.md Finding 11),
// PINGREQ and DISCONNECT as constant bytes.
import type { DeviceCredentials } from '../common/fleet.js';
import type { PayloadSource } from './payload.js';

export type MqttVersion = '3.1.1' | '5';

/** ThingsBoard's device telemetry topic (https://thingsboard.io/docs/reference/mqtt-api/#telemetry-upload-api). */
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

/**
 * CONNECT, hand-encoded (MQTT 3.1.1 §3.1 / 5.0 §3.1, clean session, no will, no properties):
 * mqtt-packet's generator was ~7 % of a shard's CPU while 19,000 devices connected (B3 profile),
 * and importing it builds a 6.6 MB number cache in every shard process.
 */
export function encodeConnect(o: ConnectOptions): Buffer {
  const c = o.credentials;
  let username: Buffer | null = null;
  let password: Buffer | null = null;
  let clientId = o.clientId;
  if (c.type === 'ACCESS_TOKEN') username = Buffer.from(c.token, 'utf8');
  else if (c.type === 'MQTT_BASIC') {
    username = c.username ? Buffer.from(c.username, 'utf8') : null;
    password = c.password ? Buffer.from(c.password, 'utf8') : null;
    clientId = c.clientId ?? clientId;
  }
  const id = Buffer.from(clientId, 'utf8');
  const v5 = o.version === '5';
  // protocol name (2 + 4) + level + flags + keepalive (2) [+ property length 0] + fields with 2-byte lengths
  const rem = 10 + (v5 ? 1 : 0) + 2 + id.length + (username ? 2 + username.length : 0) + (password ? 2 + password.length : 0);
  const { buf, off: body } = framePacket(0x10, rem);
  let off = buf.writeUInt16BE(4, body);
  off += buf.write('MQTT', off, 'latin1');
  buf[off++] = v5 ? 5 : 4;
  buf[off++] = 0x02 | (username ? 0x80 : 0) | (password ? 0x40 : 0);
  off = buf.writeUInt16BE(o.keepaliveSec, off);
  if (v5) buf[off++] = 0;
  for (const f of [id, username, password]) if (f) off = writeField(buf, off, f);
  return buf;
}

type FastBuffer = Buffer & { latin1Write(s: string, off: number): number; utf8Write(s: string, off: number): number };

/** Bytes of the MQTT variable-length "remaining length" field. */
export function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** The remaining-length field `n` at `off`; returns the offset after it. */
export function writeVarint(buf: Buffer, off: number, n: number): number {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n > 0) b |= 0x80;
    buf[off++] = b;
  } while (n > 0);
  return off;
}

/**
 * A packet that is rarely sent (CONNECT, SUBSCRIBE, a small reply), in a buffer of its own: the
 * fixed header (`first` byte, remaining length `rem`) written, `off` where the rest of it goes.
 */
export function framePacket(first: number, rem: number): { buf: Buffer; off: number } {
  const buf = Buffer.allocUnsafe(1 + varintSize(rem) + rem);
  buf[0] = first;
  return { buf, off: writeVarint(buf, 1, rem) };
}

/** A length-prefixed field (topic, client id, user name…) at `off`; returns the offset after it. */
export function writeField(buf: Buffer, off: number, bytes: Uint8Array): number {
  off = buf.writeUInt16BE(bytes.length, off);
  buf.set(bytes, off);
  return off + bytes.length;
}

/** Default size of a PublishWriter's buffer, bytes (~290 telemetry messages). */
const WRITER_CAPACITY = 64 * 1024;

/**
 * Builds the PUBLISH packets of one shard (one topic, QoS and protocol version) in a buffer it
 * reuses: `append` the message(s) one socket is due, `take` them as one view, write it, then say
 * with `written` whether the socket handed every byte to the kernel. If it did, nothing references
 * the buffer any more and the next packets overwrite it; if not, the view stays untouched and the
 * writer moves on past it (a new buffer once full). A fresh pooled Buffer per message cost
 * allocation and GC on every publish (bench/README.md, Findings).
 */
export class PublishWriter {
  private readonly topic: Uint8Array;
  private readonly first: number;
  /** topic length prefix + topic + packet id (QoS 1) + property length (MQTT 5) */
  private readonly fixedVar: number;
  /** Length-field bytes reserved before a payload written in place (sized for `payload.maxBytes`). */
  private readonly vlen: number;
  private buf: Buffer;
  /** Start of the packets appended since the last `take`. */
  private start = 0;
  private off = 0;
  /** Some bytes of `buf` belong to a write still queued in a socket: never rewind over them. */
  private pinned = false;

  constructor(
    topic: string,
    readonly qos: 0 | 1,
    readonly version: MqttVersion,
    private readonly payload: PayloadSource,
    private readonly capacity = WRITER_CAPACITY,
  ) {
    const t = Buffer.from(topic, 'utf8');
    this.topic = new Uint8Array(2 + t.length);
    this.topic[0] = t.length >>> 8;
    this.topic[1] = t.length & 0xff;
    this.topic.set(t, 2);
    this.first = 0x30 | (qos << 1);
    this.fixedVar = this.topic.length + (qos ? 2 : 0) + (version === '5' ? 1 : 0);
    this.vlen = varintSize(this.fixedVar + (payload.maxBytes ?? 0));
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  /** Appends the PUBLISH of message `seq` of device `i` (`packetId` 1..65535, ignored at QoS 0); returns its size, bytes. */
  append(i: number, seq: number, now: number, packetId: number): number {
    const src = this.payload;
    let h: number;
    let end: number;
    if (src.writeTo) {
      this.reserve(1 + this.vlen + this.fixedVar + src.maxBytes!);
      h = this.off;
      const at = h + 1 + this.vlen + this.fixedVar;
      end = src.writeTo(this.buf, at, i, seq, now);
      const rem = this.fixedVar + (end - at);
      // a payload shorter than the bound may need fewer length bytes than reserved: close the gap
      const short = this.vlen - varintSize(rem);
      if (short > 0) {
        this.buf.copyWithin(at - short, at, end);
        end -= short;
      }
      this.header(h, rem, packetId);
    } else {
      const text = src.next(i, seq, now);
      const plen = src.ascii ? text.length : Buffer.byteLength(text, 'utf8');
      const rem = this.fixedVar + plen;
      this.reserve(1 + varintSize(rem) + rem);
      h = this.off;
      const at = this.header(h, rem, packetId);
      // the unchecked writers skip Buffer#write's argument juggling (hot path)
      end = at + (src.ascii ? (this.buf as FastBuffer).latin1Write(text, at) : (this.buf as FastBuffer).utf8Write(text, at));
    }
    this.off = end;
    return end - h;
  }

  /** The packets appended since the last call, as one view (write it to one socket, then call `written`). */
  take(): Buffer {
    const v = this.buf.subarray(this.start, this.off);
    this.start = this.off;
    return v;
  }

  /** @param flushed the socket holds no unsent bytes after the write (they are in the kernel). */
  written(flushed: boolean): void {
    if (!flushed) this.pinned = true;
    else if (!this.pinned) this.start = this.off = 0;
  }

  /** Makes room for `n` more bytes after the pending packets. */
  private reserve(n: number): void {
    if (this.buf.length - this.off >= n) return;
    const pending = this.buf.subarray(this.start, this.off);
    const next = Buffer.allocUnsafeSlow(Math.max(this.capacity, 2 * (n + pending.length)));
    pending.copy(next, 0);
    this.buf = next;
    this.start = 0;
    this.off = pending.length;
    this.pinned = false;
  }

  /** Fixed header, topic, packet id and MQTT 5 property length at `h`; returns where the payload goes. */
  private header(h: number, rem: number, packetId: number): number {
    const buf = this.buf;
    buf[h] = this.first;
    let off = writeVarint(buf, h + 1, rem);
    const t = this.topic;
    for (let k = 0; k < t.length; k++) buf[off + k] = t[k];
    off += t.length;
    if (this.qos) {
      buf[off++] = packetId >>> 8;
      buf[off++] = packetId & 0xff;
    }
    if (this.version === '5') buf[off++] = 0;
    return off;
  }
}
