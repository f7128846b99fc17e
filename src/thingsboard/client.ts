// The REST client the lab uses: authenticated JSON requests (one refresh and retry on 401
// "Token has expired", errorCode 11), non-2xx answers mapped to LabError, and a paging iterator.
// `clientFromConfig` / `parentClientFromConfig` build it from the resolved configuration.
import { RestHttp, type HttpOptions, type HttpRequest, type HttpStats } from './http.js';
import { TbSession, type SessionUser } from './auth.js';
import { httpError, envelopeOf } from './errors.js';
import type { PageData } from './types.js';
import { redactUrl } from '../common/redact.js';

/** The HTTP options (one origin) plus the tenant credentials; `label` defaults to `ThingsBoard at <url>`. */
export type ClientOptions = Omit<HttpOptions, 'label'> & {
  username: string;
  password: string;
  label?: string;
};

export type Query = HttpRequest['query'];

/** The keys of the lab configuration the client reads (config's ResolvedConfig has them): thingsboard/ imports no config/. */
export interface TbSettings {
  readonly tbUrl: string;
  readonly tbUsername: string;
  readonly tbPassword: string;
  readonly tbParentUrl?: string;
  readonly tbParentUsername?: string;
  readonly tbParentPassword?: string;
  readonly restTimeoutMs: number;
  readonly restRetries: number;
  readonly provisionConcurrency: number;
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly noProxy?: string;
}

export class TbClient {
  readonly baseUrl: string;
  private readonly http: RestHttp;
  private readonly session: TbSession;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl;
    this.http = new RestHttp({ ...opts, label: opts.label ?? `ThingsBoard at ${redactUrl(opts.baseUrl)}` });
    this.session = new TbSession(this.http, { username: opts.username, password: opts.password });
  }

  get label(): string {
    return this.http.label;
  }

  /** Requests, retries, logins and refreshes so far. */
  get stats(): HttpStats & { logins: number; refreshes: number } {
    return { ...this.http.stats, retries: { ...this.http.stats.retries }, ...this.session.counts };
  }

  /** Logs in (if not yet) and returns who we are according to the token. */
  async login(): Promise<SessionUser> {
    await this.session.token();
    return this.session.user()!;
  }

  /** A current access JWT (logs in or refreshes first when needed), e.g. for the WebSocket API. */
  accessToken(): Promise<string> {
    return this.session.token();
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>({ method: 'GET', path, query });
  }

  post<T>(path: string, body: unknown, query?: Query): Promise<T> {
    return this.request<T>({ method: 'POST', path, body, query });
  }

  delete(path: string): Promise<void> {
    return this.request<void>({ method: 'DELETE', path });
  }

  /** Every item of a paged endpoint, page by page (`page` is 0-based). */
  async *paginate<T>(path: string, query: Query = {}, pageSize = 1000): AsyncGenerator<T> {
    for (let page = 0; ; page++) {
      const p = await this.get<PageData<T>>(path, { ...query, pageSize, page });
      yield* p.data;
      if (!p.hasNext || p.data.length === 0) return;
    }
  }

  async request<T>(req: Omit<HttpRequest, 'headers'>): Promise<T> {
    let token = await this.session.token();
    for (let renewed = false; ; renewed = true) {
      const res = await this.http.send({ ...req, headers: { 'x-authorization': `Bearer ${token}` } });
      if (res.status >= 200 && res.status < 300) return res.body as T;
      if (res.status === 401 && envelopeOf(401, res.body).errorCode === 11 && !renewed) {
        token = await this.session.afterExpired(token);
        continue;
      }
      throw httpError({
        server: this.http.label,
        method: req.method,
        path: req.path,
        status: res.status,
        body: res.body,
        attempts: res.attempts,
      });
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

function restOptions(cfg: TbSettings): Omit<ClientOptions, 'baseUrl' | 'username' | 'password'> {
  return {
    timeoutMs: cfg.restTimeoutMs,
    retries: cfg.restRetries,
    connections: cfg.provisionConcurrency + 4,
    httpProxy: cfg.httpProxy,
    httpsProxy: cfg.httpsProxy,
    noProxy: cfg.noProxy,
  };
}

/** The client of the server the fleet lives on (TB_URL). */
export function clientFromConfig(cfg: TbSettings): TbClient {
  return new TbClient({ ...restOptions(cfg), baseUrl: cfg.tbUrl, username: cfg.tbUsername, password: cfg.tbPassword });
}

/** The parent (cloud) server's client when TB_PARENT_URL is set; its credentials default to the edge's. */
export function parentClientFromConfig(cfg: TbSettings): TbClient | null {
  if (!cfg.tbParentUrl) return null;
  return new TbClient({
    ...restOptions(cfg),
    baseUrl: cfg.tbParentUrl,
    username: cfg.tbParentUsername ?? cfg.tbUsername,
    password: cfg.tbParentPassword ?? cfg.tbPassword,
    label: `parent server at ${redactUrl(cfg.tbParentUrl)}`,
  });
}
