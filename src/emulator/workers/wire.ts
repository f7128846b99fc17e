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

  /** Writes what is queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.used === 0 || this.closed) return;
    const full = !this.out.write(this.stage.subarray(0, this.used));
    this.used = 0;
    // the stage may be filled again only if the write went out at once; a queued write still reads it
    if (this.out.writableLength > 0) this.stage = Buffer.allocUnsafe(MIN_STAGE);
    if (full) this.onFull?.();
  }

  /** Frames sent afterwards are dropped (the peer is gone). */
  close(): void {
    this.closed = true;
    this.used = 0;
  }
}

/** Splits a byte stream into frames; `onFrame` gets views into the received chunks. */
export class FrameReader {
  /** Bytes of an incomplete frame, kept as received: joined once the frame is whole (no copy per chunk). */
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes the incomplete frame needs (its header first). */
  private need = HEADER;

  constructor(private readonly onFrame: (type: number, conn: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.size > 0) {
      this.parts.push(chunk);
      this.size += chunk.length;
      if (this.size < this.need) return;
      chunk = Buffer.concat(this.parts, this.size);
      this.parts = [];
      this.size = 0;
    }
    let off = 0;
    while (off + HEADER <= chunk.length) {
      const end = off + HEADER + chunk.readUInt32BE(off + 5);
      if (end > chunk.length) break;
      this.onFrame(chunk[off], chunk.readUInt32BE(off + 1), chunk.subarray(off + HEADER, end));
      off = end;
    }
    if (off === chunk.length) return;
    const rest = chunk.subarray(off);
    this.parts = [rest];
    this.size = rest.length;
    this.need = rest.length >= HEADER ? HEADER + rest.readUInt32BE(5) : HEADER;
  }
}
