// The `http` workload (contract in ./workload.ts): devices post telemetry to ThingsBoard's HTTP
// device API, `POST {HTTP_URL}/api/v1/{token}/telemetry` (DeviceApiController; 200 empty when
// accepted), over one undici keep-alive pool per shard and source address, the same payload as the
// MQTT devices (so delivery truth reads `sequence` unchanged). A row is one device; it has no
// connection of its own:
// - `connect(i)`: its pool is ready: the first row of a pool waits for one TCP (TLS) connect to the
//   origin, the later ones are ready at once; a failed probe fails every waiting row's connect;
// - `append` + `flush`: one request per message; its response is the message's ack, at the time
//   the response ended, measured by the shard from the time it sent the message;
// - a status other than 2xx, or a request lost with its connection, is a refused message: counted
//   failed (`http-error`) and by cause (`429 Too Many Requests`, `ECONNREFUSED`: `byCause`).
import { Pool, type Dispatcher } from 'undici';
import { readyEvent, openStream, type TransportTarget } from './transport.js';
import { createPayloadSource, type PayloadSource } from './payload.js';
import { CAUSES, httpErrorCause, httpStatusCause, socketErrorCause } from './causes.js';
import type { Cause, ErrorKind } from './causes.js';
import type { Workload, WorkloadContext, WorkloadHost, WorkloadClock } from './workload.js';

/** The settings this workload reads (the engine's ShardSettings carries them). */
export interface HttpTelemetrySettings {
  http?: { url: string; connections: number };
  payloadTemplate?: string;
  ackTimeoutMs: number;
  connectTimeoutMs: number;
}

/** Requests queued or in flight per pool connection beyond which rows skip their due messages. */
const OUTSTANDING_PER_CONNECTION = 256;
/** Request bodies are cut from slabs of this size (a slab is dropped once its requests are done). */
const SLAB_BYTES = 64 * 1024;
const HEADERS = ['content-type', 'application/json'];

const IDLE = 0,
  WAITING = 1,
  UP = 2,
  CLOSING = 3;

/** One keep-alive pool (one per source address) and whether its origin has answered a connect. */
class PoolEntry {
  ready = false;
  probing = false;
  readonly waiting: number[] = [];
  constructor(
    readonly pool: Pool,
    readonly localAddress: string | undefined,
  ) {
    pool.on('connectionError', () => (this.ready = false)); // the next row to connect probes again
  }
}

/** One request: reports its response (or its failure) for row `i`, message `ackId`. */
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0;
  constructor(
    private readonly w: HttpTelemetry,
    private readonly i: number,
    private readonly ackId: number,
  ) {}
  onConnect(): void {}
  onHeaders(status: number): boolean {
    this.status = status;
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.w.answered(this.i, this.ackId, this.status, null);
  }
  onError(e: Error): void {
    this.w.answered(this.i, this.ackId, 0, e);
  }
}

export class HttpTelemetry implements Workload {
  private readonly host: WorkloadHost;
  private readonly clock: WorkloadClock;
  private readonly payload: PayloadSource;
  private readonly target: TransportTarget;
  private readonly pools = new Map<string, PoolEntry>();
  private readonly poolOptions: Pool.Options;
  private readonly origin: string;
  /** By shard row: request path (holds the token: never logged), request head bytes, state, pool, requests out. */
  private readonly paths: string[];
  private readonly headBytes: Uint16Array;
  private readonly state: Uint8Array;
  private readonly poolOf: Array<PoolEntry | null>;
  private readonly out: Uint16Array;
  private outstanding = 0;
  private readonly maxOutstanding: number;
  private readonly connectTimeoutMs: number;
  /** Messages appended since the last flush (one row's). */
  private pendingAck: number[] = [];
  private pendingBody: Buffer[] = [];
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private slabAt = 0;

  constructor(wctx: WorkloadContext, settings: HttpTelemetrySettings) {
    if (!settings.http) throw new Error('http rows without the http settings');
    const { url, connections } = settings.http;
    const u = new URL(url);
    const prefix = u.pathname.replace(/\/+$/, '');
    this.host = wctx.host;
    this.clock = wctx.clock;
    this.origin = u.origin;
    const https = u.protocol === 'https:';
    this.target = {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: Number(u.port || (https ? 443 : 80)),
      tls: https ? { insecure: false } : null,
    };
    const timeout = settings.ackTimeoutMs + 1000; // the shard counts the ack timeout first
    this.connectTimeoutMs = settings.connectTimeoutMs;
    this.poolOptions = { connections, pipelining: 1, headersTimeout: timeout, bodyTimeout: timeout };
    this.maxOutstanding = connections * OUTSTANDING_PER_CONNECTION;
    this.payload = createPayloadSource(wctx.devices, settings.payloadTemplate);
    const n = wctx.devices.length;
    this.paths = new Array<string>(n).fill('');
    this.headBytes = new Uint16Array(n);
    this.state = new Uint8Array(n);
    this.poolOf = new Array<PoolEntry | null>(n).fill(null);
    this.out = new Uint16Array(n);
    // what undici writes before the body: request line, host, connection, content type and length
    const fixed = `POST  HTTP/1.1\r\nhost: ${u.host}\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: \r\n\r\n`;
    for (const i of wctx.rows) {
      const c = wctx.devices[i].credentials;
      const token = c.type === 'ACCESS_TOKEN' ? c.token : '';
      this.paths[i] = `${prefix}/api/v1/${encodeURIComponent(token)}/telemetry`;
      this.headBytes[i] = Math.min(65535, Buffer.byteLength(fixed) + Buffer.byteLength(this.paths[i]));
    }
  }

  connect(i: number, localAddress: string | undefined): void {
    const key = localAddress ?? '';
    let entry = this.pools.get(key);
    if (!entry) {
      const pool = new Pool(this.origin, { ...this.poolOptions, connect: { localAddress, timeout: this.connectTimeoutMs } });
      this.pools.set(key, (entry = new PoolEntry(pool, localAddress)));
    }
    this.poolOf[i] = entry;
    this.state[i] = WAITING;
    if (entry.ready) {
      setImmediate(() => this.up(i));
      return;
    }
    entry.waiting.push(i);
    if (!entry.probing) this.probe(entry);
  }

  /** One connect to the origin: the pool is ready (every waiting row up), or every waiting row's connect failed. */
  private probe(entry: PoolEntry): void {
    entry.probing = true;
    const s = openStream(this.target, entry.localAddress);
    const end = (cause: Cause | null) => {
      s.destroy();
      entry.probing = false;
      entry.ready = cause === null;
      for (const i of entry.waiting.splice(0)) {
        if (this.state[i] !== WAITING || this.poolOf[i] !== entry) continue;
        if (cause) {
          this.state[i] = IDLE;
          this.host.closed(i, cause, 'connect-error');
        } else this.up(i);
      }
    };
    s.setTimeout(this.connectTimeoutMs, () => end(CAUSES.connectTimeout));
    s.once(readyEvent(this.target), () => end(null));
    s.once('error', (e: NodeJS.ErrnoException) => end(socketErrorCause(e)));
  }

  private up(i: number): void {
    if (this.state[i] !== WAITING) return;
    this.state[i] = UP;
    this.host.connected(i, this.clock.now());
  }

  backedUp(): boolean {
    return this.outstanding >= this.maxOutstanding;
  }

  append(i: number, seq: number, ts: number, ackId: number): number {
    const src = this.payload;
    let body: Buffer;
    if (src.writeTo) {
      if (SLAB_BYTES - this.slabAt < src.maxBytes!) {
        this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, src.maxBytes!));
        this.slabAt = 0;
      }
      const start = this.slabAt;
      this.slabAt = src.writeTo(this.slab, start, i, seq, ts);
      body = this.slab.subarray(start, this.slabAt);
    } else body = Buffer.from(src.next(i, seq, ts), 'utf8');
    this.pendingAck.push(ackId);
    this.pendingBody.push(body);
    const len = body.length;
    return this.headBytes[i] + len + (len < 10 ? 1 : len < 100 ? 2 : len < 1000 ? 3 : len < 10_000 ? 4 : 5);
  }

  flush(i: number): void {
    const pool = this.poolOf[i]!.pool;
    const path = this.paths[i];
    const acks = this.pendingAck;
    const bodies = this.pendingBody;
    for (let k = 0; k < acks.length; k++) {
      this.out[i]++;
      this.outstanding++;
      pool.dispatch({ path, method: 'POST', headers: HEADERS, body: bodies[k] }, new Exchange(this, i, acks[k]));
    }
    acks.length = 0;
    bodies.length = 0;
  }

  /** A request of row i ended: `status` (0 when `error`); reports its ack or refusal, and a close it waited for. */
  answered(i: number, ackId: number, status: number, error: Error | null): void {
    this.out[i]--;
    this.outstanding--;
    const at = this.clock.now();
    // the shard counts a refusal by its cause, unless it already counted the message as an ack timeout
    if (status >= 200 && status < 300) this.host.acked(i, ackId, at, null);
    else this.host.acked(i, ackId, at, error ? httpErrorCause(error) : httpStatusCause(status), 'http-error');
    if (this.state[i] === CLOSING && this.out[i] === 0) {
      this.state[i] = IDLE;
      this.host.closed(i, null, null);
    }
  }

  housekeep(): void {}

  /** Graceful: the row's requests still out end first (the shard's grace period bounds the wait). */
  close(i: number, graceful: boolean): void {
    const s = this.state[i];
    if (s === IDLE) return;
    if (graceful && s === UP && this.out[i] > 0) {
      this.state[i] = CLOSING;
      return;
    }
    this.state[i] = IDLE;
    setImmediate(() => this.host.closed(i, null, null));
  }

  abort(i: number, cause: Cause, kind: ErrorKind | null): void {
    if (this.state[i] === IDLE) return;
    this.state[i] = IDLE;
    setImmediate(() => this.host.closed(i, cause, kind));
  }
}
