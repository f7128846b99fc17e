// Tenant login with real HS512 JWTs shaped like ThingsBoard's (docs/thingsboard-behaviour.md#authentication): decodable
// `iat`/`exp`, configurable lifetimes, and the 401 codes for bad (10) and expired/forged (11) tokens.
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { ApiError, NULL_UUID } from './model.js';
import type { CustomerUser } from './customers.js';

export interface AuthOptions {
  username: string;
  password: string;
  /** Access token lifetime, s (ThingsBoard default 9000). */
  jwtLifetimeSec: number;
  /** Refresh token lifetime, s (ThingsBoard default 604800). */
  refreshLifetimeSec: number;
  tenantId: string;
  userId: string;
  /** Wall clock, ms (issue time, expiry check). */
  clock: () => number;
  /** System administrator login (ThingsBoard's default sysadmin@thingsboard.org / sysadmin); null = none. */
  sysadmin?: { username: string; password: string } | null;
  /** A customer user by id (claim.ts's users; their tokens come from GET /api/user/{id}/token). */
  customerUser?: (userId: string) => CustomerUser | undefined;
}

type Authority = 'TENANT_ADMIN' | 'SYS_ADMIN' | 'CUSTOMER_USER';

export interface TokenPair {
  token: string;
  refreshToken: string;
}

const ISSUER = 'thingsboard.io';

export class Auth {
  private readonly key = new Uint8Array(randomBytes(64));

  constructor(readonly opts: AuthOptions) {}

  async login(username: unknown, password: unknown): Promise<TokenPair> {
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
      throw new ApiError(401, 10, 'Authentication failed');
    }
    const sa = this.opts.sysadmin;
    if (sa && username === sa.username && password === sa.password) return this.pair('SYS_ADMIN');
    if (username !== this.opts.username || password !== this.opts.password) throw new ApiError(401, 10, 'Invalid username or password');
    return this.pair();
  }

  async refresh(refreshToken: unknown): Promise<TokenPair> {
    if (typeof refreshToken !== 'string' || refreshToken === '') throw new ApiError(401, 10, 'Authentication failed');
    const claims = await this.verify(refreshToken);
    if (!Array.isArray(claims.scopes) || !claims.scopes.includes('REFRESH_TOKEN')) throw new ApiError(401, 10, 'Invalid JWT token');
    const customerUser = typeof claims.userId === 'string' ? this.opts.customerUser?.(claims.userId) : undefined;
    if (customerUser) return this.customerUserPair(customerUser);
    return this.pair(this.opts.sysadmin && claims.sub === this.opts.sysadmin.username ? 'SYS_ADMIN' : 'TENANT_ADMIN');
  }

  /** UserController.getUserToken: a tenant administrator's JWT pair for one of its customer users. */
  customerUserPair(u: CustomerUser): Promise<TokenPair> {
    return this.pair('CUSTOMER_USER', u);
  }

  private async pair(authority: Authority = 'TENANT_ADMIN', cu?: CustomerUser): Promise<TokenPair> {
    const now = Math.floor(this.opts.clock() / 1000);
    const sessionId = randomUUID();
    const o = this.opts;
    const subject = cu ? cu.email : authority === 'SYS_ADMIN' && o.sysadmin ? o.sysadmin.username : o.username;
    const userId = cu ? cu.id : o.userId;
    const token = await new SignJWT({
      userId,
      scopes: [authority],
      sessionId,
      firstName: cu?.firstName ?? null,
      lastName: cu?.lastName ?? null,
      enabled: true,
      isPublic: false,
      tenantId: authority === 'SYS_ADMIN' ? NULL_UUID : o.tenantId,
      customerId: cu ? cu.customerId : NULL_UUID,
    })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuer(ISSUER)
      .setSubject(subject)
      .setIssuedAt(now)
      .setExpirationTime(now + o.jwtLifetimeSec)
      .sign(this.key);
    const refreshToken = await new SignJWT({ userId, scopes: ['REFRESH_TOKEN'], isPublic: false, sessionId })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuer(ISSUER)
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + o.refreshLifetimeSec)
      .sign(this.key);
    return { token, refreshToken };
  }

  /** Verifies a JWT; throws ApiError 401/11 when expired or forged, 401/10 when malformed. */
  async verify(token: string): Promise<JWTPayload & { scopes?: string[] }> {
    try {
      const currentDate = new Date(this.opts.clock());
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS512'], currentDate });
      return payload as JWTPayload & { scopes?: string[] };
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired || e instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw new ApiError(401, 11, 'Token has expired');
      }
      throw new ApiError(401, 10, 'Invalid username or password');
    }
  }

  /**
   * Verifies an access (not refresh) token from an `X-Authorization`/`Authorization` header value. A customer
   * user passes only where `customerAllowed` (the claim API); elsewhere 403, as @PreAuthorize('TENANT_ADMIN') answers.
   */
  async verifyHeader(header: string | undefined, customerAllowed = false): Promise<JWTPayload & { scopes?: string[] }> {
    if (!header) throw new ApiError(401, 10, 'Authentication failed');
    // ThingsBoard strips the first 7 characters ("Bearer ") without checking them
    const claims = await this.verify(header.slice(7));
    // a sysadmin is authenticated but may not use the tenant API (ThingsBoard: 403, errorCode 20)
    const customer =
      claims.scopes?.includes('CUSTOMER_USER') && typeof claims.userId === 'string' && this.opts.customerUser?.(claims.userId);
    if (customer) {
      if (customerAllowed) return claims;
      throw new ApiError(403, 20, "You don't have permission to perform this operation!");
    }
    if (claims.scopes?.includes('SYS_ADMIN')) throw new ApiError(403, 20, "You don't have permission to perform this operation!");
    if (!claims.scopes?.includes('TENANT_ADMIN')) throw new ApiError(401, 10, 'Invalid username or password');
    return claims;
  }

  /** The User object of GET /api/auth/user. */
  user(): Record<string, unknown> {
    const o = this.opts;
    return {
      id: { entityType: 'USER', id: o.userId },
      createdTime: 0,
      tenantId: { entityType: 'TENANT', id: o.tenantId },
      customerId: { entityType: 'CUSTOMER', id: NULL_UUID },
      email: o.username,
      authority: 'TENANT_ADMIN',
      firstName: null,
      lastName: null,
      phone: null,
      name: o.username,
      additionalInfo: {},
      version: 1,
    };
  }
}
