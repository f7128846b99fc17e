// REST calls an overlay workload makes as the tenant (server-side RPC, shared-attribute writes):
// one undici keep-alive pool per shard to TB_URL, the tenant's JWT in `X-Authorization`, no retries
// (each call is a measurement: a 429 or 5xx is an outcome, not something to hide), the answer's
// status and text. The token is pushed by the lab and never logged (src/common/redact.ts).
import { Pool } from 'undici';

export interface RestCallerOptions {
  /** TB_URL (a path prefix is kept). */
  url: string;
  /** Pooled keep-alive connections: calls beyond wait in the pool's queue (and their wait is measured). */
  connections: number;
  /** A call without response headers or body after this long fails on the lab's side, ms. */
  timeoutMs: number;
}

export interface RestAnswer {
  status: number;
  body: string;
}

export class RestCaller {
  private readonly pool: Pool;
  private readonly prefix: string;
  private token: string | null = null;

  constructor(private readonly o: RestCallerOptions) {
    const u = new URL(o.url);
    this.prefix = u.pathname.replace(/\/+$/, '');
    this.pool = new Pool(u.origin, { connections: o.connections, keepAliveTimeout: 30_000, connect: { timeout: 10_000 } });
  }

  setToken(token: string): void {
    this.token = token;
  }

  get authorized(): boolean {
    return this.token !== null;
  }

  /** POSTs JSON text; resolves with any status, rejects on a network error or the lab-side timeout. */
  async post(path: string, json: string): Promise<RestAnswer> {
    const res = await this.pool.request({
      path: this.prefix + path,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-authorization': `Bearer ${this.token ?? ''}` },
      body: json,
      headersTimeout: this.o.timeoutMs,
      bodyTimeout: this.o.timeoutMs,
    });
    return { status: res.statusCode, body: await res.body.text() };
  }

  /** GETs `path`; resolves with any status, rejects on a network error or the lab-side timeout. */
  async get(path: string): Promise<RestAnswer> {
    const res = await this.pool.request({
      path: this.prefix + path,
      method: 'GET',
      headers: { accept: 'application/json', 'x-authorization': `Bearer ${this.token ?? ''}` },
      headersTimeout: this.o.timeoutMs,
      bodyTimeout: this.o.timeoutMs,
    });
    return { status: res.statusCode, body: await res.body.text() };
  }

  /** Ends the pool: calls still waiting are aborted (their callers count them). */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** A failed call's cause: the error code of `e` or its cause chain (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`…). */
export function callErrorCause(e: unknown, timeoutMs: number): string {
  for (let x: unknown = e, depth = 0; x && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${timeoutMs} ms (lab)`;
    if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') return 'lab stopped before the answer';
    if (typeof code === 'string' && code) return code;
  }
  return 'network error';
}
