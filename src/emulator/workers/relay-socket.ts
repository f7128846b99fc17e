// The front's stand-in for a client socket that a transport worker holds: it offers the part of
// net.Socket an MQTT Session uses (data/error/close events, write, end, destroy, pause, resume,
// writable, the remote address), and turns each call into a frame for the worker. So the one
// MqttServer of the front runs every session of every worker with the code it runs in-process.
import { EventEmitter } from 'node:events';
import { F } from './wire.js';

/** The worker link a relay talks through (transport-pool.ts). */
export interface RelayLink {
  send(type: number, conn: number, payload?: Buffer): void;
  /** The relay is finished: forget its connection id. */
  forget(conn: number): void;
}

export class RelaySocket extends EventEmitter {
  writable = true;
  /** 'close' emitted (or about to be). */
  private finished = false;
  private paused = false;
  /** Bytes that arrived while paused (already in flight when the pause was sent), in order. */
  private held: Buffer[] = [];
  /** The worker reported the close while paused: emitted after the held bytes, on resume. */
  private closeHeld = false;
  /** The worker is gone: nothing more is sent to it. */
  private lost = false;

  constructor(
    private readonly link: RelayLink,
    readonly conn: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    super();
  }

  setNoDelay(): this {
    return this; // the worker sets TCP_NODELAY on every socket it accepts
  }

  write(data: Buffer): boolean {
    if (!this.writable) return false;
    this.link.send(F.WRITE, this.conn, data);
    return true;
  }

  end(): this {
    if (!this.writable) return this;
    this.writable = false;
    if (!this.lost) this.link.send(F.END, this.conn);
    return this;
  }

  destroy(): this {
    if (this.finished) return this;
    this.writable = false;
    if (!this.lost) this.link.send(F.DESTROY, this.conn);
    this.finish();
    return this;
  }

  pause(): this {
    if (this.paused || this.finished) return this;
    this.paused = true;
    if (!this.lost) this.link.send(F.PAUSE, this.conn);
    return this;
  }

  resume(): this {
    if (!this.paused || this.finished) return this;
    this.paused = false;
    if (!this.lost) this.link.send(F.RESUME, this.conn);
    const held = this.held;
    this.held = [];
    for (const chunk of held) if (!this.finished) this.emit('data', chunk);
    if (this.closeHeld) this.finish();
    return this;
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** Bytes the worker read from the client. */
  received(chunk: Buffer): void {
    if (this.finished) return;
    if (this.paused) this.held.push(chunk);
    else this.emit('data', chunk);
  }

  /** The worker's socket closed: a paused relay finishes once its held bytes were read, as a paused socket reads EOF last. */
  closedByWorker(): void {
    if (this.paused && this.held.length > 0) this.closeHeld = true;
    else this.finish();
  }

  /** The worker process is gone: the socket with it. */
  lose(): void {
    this.lost = true;
    this.writable = false;
    this.held = [];
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.writable = false;
    this.link.forget(this.conn);
    // as net.Socket: 'close' comes on a later tick, never inside the call that caused it
    process.nextTick(() => this.emit('close', false));
  }
}
