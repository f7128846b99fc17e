// The byte protocol between the emulator's front and its MQTT transport workers, over one Unix
// socket pair per worker (the child's fd 3): frames of [type u8][connection u32][length u32][bytes].
// Both sides batch: every frame of one event-loop turn goes out in a single write, so a busy worker
// hands the front hundreds of PUBLISHes per read instead of one syscall per device message.
import type { Writable } from 'node:stream';

/** Frame types. Worker → front: READY…STATS; front → worker: WRITE…SHUTDOWN. */
export const F = {
  /** The worker listens: JSON `{port}`. */
  READY: 1,
  /** The worker could not listen: JSON `{code, message}`; it exits next. */
  FAILED: 2,
  /** A client socket was accepted: `remoteAddress\nremotePort`. */
  OPEN: 3,
  /** Bytes read from a client socket. */
  DATA: 4,
  /** A client socket closed (by either side). */
  CLOSE: 5,
  /** The worker's own resource use: JSON `{rssBytes, cpuMicros, sockets}`. */
  STATS: 6,
  /** Bytes to write to a client socket. */
  WRITE: 10,
  /** Half-close a client socket after its pending writes. */
  END: 11,
  /** Close a client socket now. */
  DESTROY: 12,
  /** Stop / restart reading a client socket (the stall fault). */
  PAUSE: 13,
  RESUME: 14,
  /** Close every socket and exit. */
  SHUTDOWN: 15,
} as const;

const HEADER = 9;
const MIN_STAGE = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** Queues frames and writes everything queued in one turn as one buffer (on setImmediate). */
export class FrameWriter {
  private stage = Buffer.allocUnsafe(MIN_STAGE);
  private used = 0;
  private scheduled = false;
  private closed = false;

  /** `onFull`: the output refused more (write() returned false); resume on its 'drain'. */
  constructor(
    private readonly out: Writable,
    private readonly onFull?: () => void,
  ) {}

  send(type: number, conn: number, payload: Buffer | string = EMPTY): void {
    if (this.closed) return;
    const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    this.reserve(HEADER + len);
    const b = this.stage;
    let at = this.used;
    b[at] = type;
    b.writeUInt32BE(conn, at + 1);
    b.writeUInt32BE(len, at + 5);
    at += HEADER;
    if (typeof payload === 'string') b.write(payload, at);
    else payload.copy(b, at);
    this.used = at + len;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private reserve(n: number): void {
    if (this.used + n <= this.stage.length) return;
    const next = Buffer.allocUnsafe(Math.max(MIN_STAGE, (this.used + n) * 2));
    this.stage.copy(next, 0, 0, this.used);
    this.stage = next;
  }

  /** Writes what is queued now (a buffer handed to write() is never reused). */
  flush(): void {
    this.scheduled = false;
    if (this.used === 0 || this.closed) return;
    const out = this.stage.subarray(0, this.used);
    this.stage = Buffer.allocUnsafe(MIN_STAGE);
    this.used = 0;
    if (!this.out.write(out)) this.onFull?.();
  }

  /** Frames sent afterwards are dropped (the peer is gone). */
  close(): void {
    this.closed = true;
    this.used = 0;
  }
}

/** Splits a byte stream into frames; `onFrame` gets views into the received chunks. */
export class FrameReader {
  private pending: Buffer | null = null;

  constructor(private readonly onFrame: (type: number, conn: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    while (off + HEADER <= buf.length) {
      const len = buf.readUInt32BE(off + 5);
      const end = off + HEADER + len;
      if (end > buf.length) break;
      this.onFrame(buf[off], buf.readUInt32BE(off + 1), buf.subarray(off + HEADER, end));
      off = end;
    }
    this.pending = off < buf.length ? Buffer.from(buf.subarray(off)) : null;
  }
}
