// ThingsBoard answers and socket failures → the lab's error catalogue. Messages name the server
// and the request (method + path, never the query: it may carry an access token).
import { LabError, describeError } from '../common/errors.js';
import { errorCode } from './retry.js';
import type { TbErrorEnvelope } from './types.js';

/** What the client knows about a failed exchange. */
export interface FailedExchange {
  /** e.g. `ThingsBoard at http://127.0.0.1:8080` or `parent server at …`. */
  server: string;
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  body: unknown;
  /** Attempts made (1 = no retry). */
  attempts: number;
}

/** The JSON error envelope, or a synthetic one around a plain-text body (the telemetry controller answers text). */
export function envelopeOf(status: number, body: unknown): TbErrorEnvelope {
  if (body && typeof body === 'object' && typeof (body as TbErrorEnvelope).message === 'string') {
    const b = body as Partial<TbErrorEnvelope>;
    return { status: b.status ?? status, message: b.message ?? '', errorCode: typeof b.errorCode === 'number' ? b.errorCode : 0 };
  }
  const text = typeof body === 'string' ? body.trim().slice(0, 300) : '';
  return { status, message: text || `HTTP ${status}`, errorCode: 0 };
}

/** Maps a non-2xx answer to a LabError with `details` {status, errorCode, method, path}. */
export function httpError(x: FailedExchange): LabError {
  const env = envelopeOf(x.status, x.body);
  const what = `${x.method} ${x.path}`;
  const details = { status: x.status, errorCode: env.errorCode, method: x.method, path: x.path, attempts: x.attempts };
  const said = `${x.server} answered ${x.status} to ${what}: ${env.message}`;
  if (x.status === 401) return new LabError('AUTH_FAILED', { message: `${x.server} refused the credentials: ${env.message}`, details });
  if (x.status === 403)
    return new LabError('PERMISSION_DENIED', {
      message: said,
      details,
      ...(env.errorCode === 41 ? { hint: "The tenant profile's device limit is reached; raise it or lower DEVICE_COUNT." } : {}),
    });
  if (x.status === 404) return new LabError('NOT_FOUND', { message: said, details });
  if (x.status === 429) return new LabError('RATE_LIMITED', { message: `${said} (still after ${x.attempts} attempts)`, details });
  if (x.status >= 500) return new LabError('SERVER_ERROR', { message: `${said} (after ${x.attempts} attempts)`, details });
  return new LabError('REQUEST_REJECTED', { message: said, details });
}

/** A request that got no HTTP answer at all: refused, reset, timed out, DNS… */
export function networkError(server: string, method: string, path: string, e: unknown, attempts: number): LabError {
  const code = errorCode(e);
  const details = { method, path, cause: code ?? describeError(e), attempts };
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new LabError('TARGET_TIMEOUT', {
      message: `${server} did not answer ${method} ${path} in time (${code}, ${attempts} attempt${attempts > 1 ? 's' : ''})`,
      details,
      cause: e,
    });
  }
  return new LabError('TARGET_UNREACHABLE', {
    message: `Cannot reach ${server} (${code ? `${code}: ` : ''}${rootMessage(e)})`,
    details,
    cause: e,
  });
}

function rootMessage(e: unknown): string {
  let cur = e;
  while (cur && (cur as { cause?: unknown }).cause instanceof Error) cur = (cur as { cause?: unknown }).cause;
  return cur instanceof Error ? cur.message : String(cur);
}

/** `400 … already exists` — the answer to creating a device whose name is taken. */
export function isAlreadyExists(e: unknown): boolean {
  return e instanceof LabError && e.code === 'REQUEST_REJECTED' && /already exists/i.test(e.message);
}

/** 400 "Device credentials are already assigned to another device!" */
export function isDuplicateCredentials(e: unknown): boolean {
  return e instanceof LabError && e.code === 'REQUEST_REJECTED' && /credentials are already assigned/i.test(e.message);
}

export function isNotFound(e: unknown): boolean {
  return e instanceof LabError && e.code === 'NOT_FOUND';
}
