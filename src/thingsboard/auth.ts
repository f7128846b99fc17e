// The JWT session of one user: login, proactive refresh before the token's `exp`, and one
// refresh-or-relogin after a 401 "Token has expired" (docs/thingsboard-behaviour.md#authentication). Tokens and the
// password live only in this object; they are never logged.
import { decodeJwt } from 'jose';
import type { RestHttp } from './http.js';
import { httpError, envelopeOf } from './errors.js';
import { LabError } from '../common/errors.js';

export interface Credentials {
  username: string;
  password: string;
}

interface TokenState {
  token: string;
  refreshToken: string;
  /** Local clock time at which the token expires, ms (lifetime taken from exp − iat, so server clock skew does not matter). */
  expiresAt: number;
  /** Refresh when fewer than this many ms remain. */
  margin: number;
}

/** What the access token says about the user (no request needed). */
export interface SessionUser {
  username: string;
  tenantId: string | null;
  authority: string | null;
}

export class TbSession {
  private state: TokenState | null = null;
  private pending: Promise<TokenState> | null = null;
  /** Counts for summaries and tests. */
  readonly counts = { logins: 0, refreshes: 0 };

  constructor(
    private readonly http: RestHttp,
    private readonly creds: Credentials,
  ) {}

  /** A token valid for at least the refresh margin; logs in or refreshes first when needed. */
  async token(): Promise<string> {
    const s = this.state;
    if (s && Date.now() < s.expiresAt - s.margin) return s.token;
    return (await this.renew(s === null ? 'login' : 'refresh')).token;
  }

  /** After a 401 errorCode 11 with `used`: refresh once (if nobody did meanwhile) and return the new token. */
  async afterExpired(used: string): Promise<string> {
    if (this.state && this.state.token !== used) return this.state.token;
    return (await this.renew('refresh')).token;
  }

  user(): SessionUser | null {
    if (!this.state) return null;
    const c = decodeJwt(this.state.token);
    return {
      username: String(c.sub ?? this.creds.username),
      tenantId: typeof c.tenantId === 'string' ? c.tenantId : null,
      authority: Array.isArray(c.scopes) ? String(c.scopes[0]) : null,
    };
  }

  /** Single-flight: concurrent callers share one login/refresh. */
  private renew(kind: 'login' | 'refresh'): Promise<TokenState> {
    if (!this.pending) {
      this.pending = (kind === 'refresh' && this.state ? this.refresh(this.state.refreshToken) : this.login())
        .then((s) => (this.state = s))
        .finally(() => {
          this.pending = null;
        });
    }
    return this.pending;
  }

  private async login(): Promise<TokenState> {
    this.counts.logins++;
    const res = await this.http.send({
      method: 'POST',
      path: '/api/auth/login',
      body: { username: this.creds.username, password: this.creds.password },
    });
    if (res.status === 401) {
      throw new LabError('AUTH_FAILED', {
        message: `${this.http.label} refused the login of ${this.creds.username}: ${envelopeOf(res.status, res.body).message}`,
        details: { status: 401, errorCode: envelopeOf(res.status, res.body).errorCode, username: this.creds.username },
      });
    }
    if (res.status !== 200)
      throw httpError({
        server: this.http.label,
        method: 'POST',
        path: '/api/auth/login',
        status: res.status,
        body: res.body,
        attempts: res.attempts,
      });
    return tokenState(res.body);
  }

  /** A refused refresh (expired or revoked refresh token) falls back to a fresh login. */
  private async refresh(refreshToken: string): Promise<TokenState> {
    this.counts.refreshes++;
    const res = await this.http.send({ method: 'POST', path: '/api/auth/token', body: { refreshToken } });
    if (res.status === 200) return tokenState(res.body);
    if (res.status === 401) return this.login();
    throw httpError({
      server: this.http.label,
      method: 'POST',
      path: '/api/auth/token',
      status: res.status,
      body: res.body,
      attempts: res.attempts,
    });
  }
}

function tokenState(body: unknown): TokenState {
  const b = body as { token?: string; refreshToken?: string };
  if (typeof b?.token !== 'string' || typeof b.refreshToken !== 'string') throw new Error('login answer without token/refreshToken');
  const c = decodeJwt(b.token);
  // Lifetime from the token itself; without exp/iat assume ThingsBoard's default 2.5 h.
  const claimed = typeof c.exp === 'number' && typeof c.iat === 'number' ? (c.exp - c.iat) * 1000 : 9_000_000;
  // iat/exp are whole seconds: the token may have been issued up to 1 s before `iat` says
  const lifetimeMs = Math.max(claimed - 1000, claimed / 2);
  return { token: b.token, refreshToken: b.refreshToken, expiresAt: Date.now() + lifetimeMs, margin: Math.min(30_000, lifetimeMs / 5) };
}
