// Incremental reader of the few packets a device receives (CONNACK, PUBACK, PINGRESP, MQTT 5
// DISCONNECT): frames are delivered as (type, flags, buffer, start, length) without allocating
// per packet; only a frame split across reads is buffered.

export const PacketType = { CONNACK: 2, PUBLISH: 3, PUBACK: 4, SUBACK: 9, PINGRESP: 13, DISCONNECT: 14 } as const;

export interface FrameSink {
  /** Called once per complete packet; `start`/`len` delimit the variable header + payload in `buf`. */
  onFrame(type: number, flags: number, buf: Buffer, start: number, len: number): void;
  /** Malformed length field: the stream cannot be resynchronised. */
  onMalformed(reason: string): void;
}

/** Largest packet a device accepts from the server (acks, and the small pushes of RPC and attribute updates). */
const MAX_FRAME = 1 << 20;

export class FrameReader {
  private pending: Buffer | null = null;

  constructor(private readonly sink: FrameSink) {}

  /** Reads the first `n` bytes of `chunk` (default all). `chunk` may be reused by the caller once
   * this returns: frames are delivered synchronously and an incomplete tail is copied. */
  push(chunk: Buffer, n = chunk.length): void {
    let buf = chunk;
    let end = n;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk.subarray(0, n)]);
      end = buf.length;
      this.pending = null;
    }
    let off = 0;
    while (off < end) {
      if (end - off < 2) break;
      const head = buf[off];
      // remaining length varint: up to 4 bytes
      let len = 0;
      let mul = 1;
      let p = off + 1;
      let complete = false;
      for (let k = 0; k < 4 && p < end; k++) {
        const b = buf[p++];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
        if (k === 3) {
          this.sink.onMalformed('remaining length longer than 4 bytes');
          return;
        }
      }
      if (!complete) break;
      if (len > MAX_FRAME) {
        this.sink.onMalformed(`packet of ${len} bytes from the server`);
        return;
      }
      if (end - p < len) break;
      this.sink.onFrame(head >>> 4, head & 0x0f, buf, p, len);
      off = p + len;
    }
    if (off < end) this.pending = Buffer.from(buf.subarray(off, end));
  }

  reset(): void {
    this.pending = null;
  }
}
