// Retry policy of the REST client: which answers are worth retrying, and how long to wait
// (exponential backoff with full jitter, never shorter than the server's Retry-After).

/** Node/undici error codes of a failed exchange that a retry may cure. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The Node error code of `e` or of its cause chain (undici wraps socket errors). */
export function errorCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur && depth < 5; depth++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string' && c !== 'UND_ERR') return c;
    if ((cur as Error).name === 'TimeoutError' || (cur as Error).name === 'AbortError') return 'ETIMEDOUT';
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isTransientNetworkError(e: unknown): boolean {
  const c = errorCode(e);
  return c !== undefined && TRANSIENT_CODES.has(c);
}

/** Errors that mean "nothing listens there" — not retried before the server has ever answered. */
export function isConnectError(e: unknown): boolean {
  const c = errorCode(e);
  return c === 'ECONNREFUSED' || c === 'ENOTFOUND' || c === 'EHOSTUNREACH' || c === 'ENETUNREACH';
}

export const isRetriableStatus = (status: number) => status === 429 || status >= 500;

/** Full-jitter backoff: uniform in [0, min(cap, base·2^attempt)), ms. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** `Retry-After` (delta seconds or an HTTP date) in ms from `now`; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
