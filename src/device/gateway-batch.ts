// One gateway's telemetry PUBLISH, built in place while its children come due: ThingsBoard's
// gateway format `{"<child>":[{"ts":…,"values":{…}}, …], …}` on `v1/gateway/telemetry`
// (AbstractGatewaySessionHandler#onDeviceTelemetryJson), one entry per child message, the child's
// own payload (the default telemetry with its `sequence`, or the template) as `values`.
//
// The fixed header's remaining length is only known when the batch closes, so four length bytes
// are reserved in front of the topic and the packet starts as many bytes in as the length needs:
// no copy of the payload. The buffer is reused when the socket took every byte of the last write,
// as PublishWriter does (bench/README.md, Findings).
import { putBytes, putUint, bytes } from './payload-bytes.js';
import { varintSize, writeVarint, type MqttVersion } from './packets.js';
import type { PayloadSource } from './payload.js';

/** ThingsBoard's gateway telemetry topic (https://thingsboard.io/docs/reference/gateway-mqtt-api/). */
export const GATEWAY_TELEMETRY_TOPIC = 'v1/gateway/telemetry';

const TS = bytes('{"ts":');
const VALUES = bytes(',"values":');
/** Longest `ts` digits (epoch ms below 2^53). */
const TS_MAX = 16;

/** The JSON-quoted names of a set of devices, back to back (row i = bytes[at[i] .. at[i + 1])). */
export class QuotedNames {
  readonly bytes: Uint8Array;
  readonly at: Int32Array;
  readonly longest: number;
  constructor(names: readonly string[]) {
    const quoted = names.map((n) => Buffer.from(JSON.stringify(n), 'utf8'));
    this.at = new Int32Array(names.length + 1);
    let longest = 0;
    quoted.forEach((q, i) => {
      this.at[i + 1] = this.at[i] + q.length;
      longest = Math.max(longest, q.length);
    });
    this.bytes = new Uint8Array(this.at[names.length]);
    quoted.forEach((q, i) => this.bytes.set(q, this.at[i]));
    this.longest = longest;
  }
}

/** Initial buffer of a gateway's batch; it doubles when a batch needs more. */
const INITIAL_BYTES = 16 * 1024;

export class GatewayBatch {
  private buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  /** Where the current packet's reserved header starts; -1 = no batch open. */
  private start = -1;
  private off = 0;
  /** The row whose entry array is open (`"name":[…`), -1 = none. */
  private openRow = -1;
  /** Child entries (messages) in the open batch. */
  entries = 0;
  /** Counts batches begun: a row that already closed its array in batch `serial` must not open a second one (JSON keys repeat). */
  serial = 0;
  /** The bytes before `start` belong to a write still queued in the socket: never rewind over them. */
  private pinned = false;
  /** Header bytes after the 4 reserved length bytes: topic with its length, packet id (QoS 1), v5 property length. */
  private readonly fixedVar: number;
  private readonly topic: Buffer;

  constructor(
    private readonly qos: 0 | 1,
    private readonly version: MqttVersion,
    private readonly payload: PayloadSource,
    private readonly names: QuotedNames,
  ) {
    this.topic = Buffer.from(GATEWAY_TELEMETRY_TOPIC, 'utf8');
    this.fixedVar = 2 + this.topic.length + (qos ? 2 : 0) + (version === '5' ? 1 : 0);
  }

  /** A batch is open (at least one entry appended since the last `take`). */
  get open(): boolean {
    return this.start >= 0;
  }

  /** Row i's entry array is open: its next message joins it. */
  isOpenRow(i: number): boolean {
    return this.openRow === i;
  }

  /** Appends message `seq` of row i with timestamp `ts` (ms); returns the bytes it added. */
  append(i: number, seq: number, ts: number): number {
    const names = this.names;
    const nameLen = names.at[i + 1] - names.at[i];
    const max = this.payload.maxBytes ?? 0;
    this.reserve(1 + 4 + this.fixedVar + 1 + nameLen + 4 + TS.length + TS_MAX + VALUES.length + max + 2);
    if (this.start < 0) this.begin();
    let from = this.off;
    let off = from;
    const buf = this.buf;
    if (this.openRow !== i) {
      if (this.openRow >= 0) buf[off++] = 93; // ']' (a row is always closed by `close`; kept for safety)
      if (this.entries > 0) buf[off++] = 44; // ','
      off = putBytes(buf, off, names.bytes, names.at[i], names.at[i + 1]);
      buf[off++] = 58; // ':'
      buf[off++] = 91; // '['
      this.openRow = i;
    } else buf[off++] = 44; // ','
    off = putUint(buf, putBytes(buf, off, TS), ts);
    off = putBytes(buf, off, VALUES);
    const src = this.payload;
    if (src.writeTo) off = src.writeTo(buf, off, i, seq, ts);
    else {
      const text = src.next(i, seq, ts);
      const need = Buffer.byteLength(text, 'utf8') + 2;
      if (buf.length - off < need) {
        // the open batch moves to a larger buffer: the entry's start moves with it
        const fromBatch = from - this.start;
        this.off = off;
        this.reserve(need);
        off = this.off;
        from = this.start + fromBatch;
      }
      off += this.buf.write(text, off, 'utf8');
    }
    this.buf[off++] = 125; // '}'
    this.off = off;
    this.entries++;
    return off - from;
  }

  /** Closes row i's entry array (after its messages of this round). */
  closeRow(): void {
    if (this.openRow < 0) return;
    this.buf[this.off++] = 93; // ']'
    this.openRow = -1;
  }

  /**
   * Closes the batch with `packetId` (QoS 1; ignored at 0) and returns the PUBLISH as a view of the
   * buffer; write it, then call `written`.
   */
  take(packetId: number): Buffer {
    this.closeRow();
    const buf = this.buf;
    buf[this.off++] = 125; // '}'
    const s = this.start;
    const payloadAt = s + 1 + 4 + this.fixedVar;
    const rem = this.fixedVar + (this.off - payloadAt);
    const vs = varintSize(rem);
    const h = s + (4 - vs);
    buf[h] = 0x30 | (this.qos << 1);
    writeVarint(buf, h + 1, rem);
    let p = s + 5;
    buf[p++] = this.topic.length >>> 8;
    buf[p++] = this.topic.length & 0xff;
    p += this.topic.copy(buf, p);
    if (this.qos) {
      buf[p++] = packetId >>> 8;
      buf[p++] = packetId & 0xff;
    }
    if (this.version === '5') buf[p] = 0; // property length
    const view = buf.subarray(h, this.off);
    this.start = -1;
    this.entries = 0;
    return view;
  }

  /** @param flushed the socket holds no unsent bytes after the write. */
  written(flushed: boolean): void {
    if (!flushed) this.pinned = true;
    else if (!this.pinned) this.off = 0;
  }

  /** Drops an open batch (its gateway connection is gone). */
  discard(): void {
    if (this.start >= 0) this.off = this.start;
    this.start = -1;
    this.openRow = -1;
    this.entries = 0;
  }

  private begin(): void {
    this.serial++;
    this.start = this.off;
    this.off = this.start + 1 + 4 + this.fixedVar;
    this.buf[this.off++] = 123; // '{'
  }

  /** Room for `n` more bytes after the open batch; a new buffer carries the open batch over. */
  private reserve(n: number): void {
    if (this.buf.length - this.off >= n) return;
    const keepFrom = this.start >= 0 ? this.start : this.off;
    const pending = this.buf.subarray(keepFrom, this.off);
    const next = Buffer.allocUnsafeSlow(Math.max(INITIAL_BYTES, 2 * (n + pending.length), this.pinned ? 0 : this.buf.length * 2));
    pending.copy(next, 0);
    if (this.start >= 0) this.start = 0;
    this.off = pending.length;
    this.buf = next;
    this.pinned = false;
  }
}
