// One HTTP origin over an undici connection pool (through HTTP(S)_PROXY unless NO_PROXY says
// otherwise): per-request timeout, bounded retries on 429/5xx/network errors with full-jitter
// backoff that honours Retry-After. Answers of any status are returned; mapping is the caller's.
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, isConnectError, isRetriableStatus, isTransientNetworkError, parseRetryAfter } from './retry.js';
import { networkError } from './errors.js';

export interface HttpOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  baseUrl: string;
  /** Human name used in messages, e.g. `ThingsBoard at http://…`. */
  label: string;
  /** Timeout of one attempt (connect + headers + body), ms. */
  timeoutMs: number;
  /** Retries after the first attempt on 429, 5xx and network errors. */
  retries: number;
  /** Pooled connections to the origin (keep ≥ the caller's concurrency). */
  connections: number;
  /** Proxy settings; `undefined` = none (the process environment is not read here). */
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  /** First backoff ceiling, ms (default 250). */
  backoffBaseMs?: number;
  /** Largest backoff, ms (default 8000). */
  backoffMaxMs?: number;
  /**
   * 429 answers are retried beyond `retries` until one request has waited this long in total, ms
   * (default 60000): a rate limit is a reason to slow down, not to give up.
   */
  rateLimitWaitMs?: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path below the base URL, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  /** Parsed JSON, text, or null for an empty body. */
  body: unknown;
  attempts: number;
}

/** Counters of one origin, for summaries (`retries` counts waits, by reason). */
export interface HttpStats {
  requests: number;
  retries: { rateLimited: number; serverError: number; network: number };
}

export class RestHttp {
  readonly stats: HttpStats = { requests: 0, retries: { rateLimited: 0, serverError: 0, network: 0 } };
  private readonly dispatcher: Dispatcher;
  private readonly origin: string;
  private readonly prefix: string;
  /** Until the server has answered once, refused connects fail fast: a wrong URL should not take a minute of backoff. */
  private answered = false;

  constructor(private readonly opts: HttpOptions) {
    const u = new URL(opts.baseUrl);
    this.origin = u.origin;
    this.prefix = u.pathname.replace(/\/+$/, '');
    this.dispatcher = new EnvHttpProxyAgent({
      httpProxy: opts.httpProxy ?? '',
      httpsProxy: opts.httpsProxy ?? opts.httpProxy ?? '',
      noProxy: opts.noProxy ?? '',
      connections: opts.connections,
      keepAliveTimeout: 10_000,
      connect: { timeout: opts.timeoutMs },
    });
  }

  get label(): string {
    return this.opts.label;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const base = this.opts.backoffBaseMs ?? 250;
    const cap = this.opts.backoffMaxMs ?? 8000;
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      let res: { status: number; body: unknown; retryAfter?: string | string[] };
      try {
        res = await this.once(req);
      } catch (e) {
        const retriable = isTransientNetworkError(e) && (this.answered || !isConnectError(e));
        if (!retriable || attempt >= this.opts.retries) throw networkError(this.opts.label, req.method, req.path, e, attempt + 1);
        this.stats.retries.network++;
        await sleep(backoffMs(attempt, base, cap));
        continue;
      }
      this.answered = true;
      const limited = res.status === 429 && waited < (this.opts.rateLimitWaitMs ?? 60_000);
      if (!isRetriableStatus(res.status) || (attempt >= this.opts.retries && !limited))
        return { status: res.status, body: res.body, attempts: attempt + 1 };
      if (res.status === 429) this.stats.retries.rateLimited++;
      else this.stats.retries.serverError++;
      const delay = Math.max(parseRetryAfter(res.retryAfter) ?? 0, backoffMs(attempt, base, cap));
      waited += delay;
      await sleep(delay);
    }
  }

  private async once(req: HttpRequest): Promise<{ status: number; body: unknown; retryAfter?: string | string[] }> {
    this.stats.requests++;
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const res = await this.dispatcher.request({
      origin: this.origin,
      path: this.prefix + req.path + queryString(req.query),
      method: req.method,
      headers,
      body,
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
    });
    const text = await res.body.text();
    const type = String(res.headers['content-type'] ?? '');
    let parsed: unknown = text === '' ? null : text;
    if (text !== '' && (type.includes('json') || /^[[{]/.test(text))) {
      try {
        parsed = JSON.parse(text);
      } catch {
        /* keep the text */
      }
    }
    return { status: res.statusCode, body: parsed, retryAfter: res.headers['retry-after'] };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function queryString(q: HttpRequest['query']): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
