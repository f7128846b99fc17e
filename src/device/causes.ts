// Why a session ended or a connect failed, in the words an operator reads in the report, and the
// root-cause class each cause belongs to. CONNACK return codes: MQTT 3.1.1 §3.2.2.3; reason
// codes: MQTT 5.0 §2.4 (ThingsBoard's MQTT transport sends them:
// common/transport/mqtt/src/main/java/org/thingsboard/server/transport/mqtt/MqttTransportHandler.java).
import { STATUS_CODES } from 'node:http';
import type { CauseClass } from '../metrics/snapshot.js';

export interface Cause {
  /** Human text, the key of `disconnects.byCause` / `connections.byOutcome`. */
  cause: string;
  class: CauseClass;
}

const CONNACK_V3: Record<number, [string, CauseClass]> = {
  1: ['unacceptable protocol version', 'protocol'],
  2: ['identifier rejected', 'auth'],
  3: ['server unavailable', 'server'],
  4: ['bad user name or password', 'auth'],
  5: ['not authorized', 'auth'],
};

/** MQTT 5 reason codes a server sends in CONNACK or DISCONNECT. */
const REASON_V5: Record<number, [string, CauseClass]> = {
  0x80: ['unspecified error', 'server'],
  0x81: ['malformed packet', 'protocol'],
  0x82: ['protocol error', 'protocol'],
  0x83: ['implementation specific error', 'server'],
  0x84: ['unsupported protocol version', 'protocol'],
  0x85: ['client identifier not valid', 'auth'],
  0x86: ['bad user name or password', 'auth'],
  0x87: ['not authorized', 'auth'],
  0x88: ['server unavailable', 'server'],
  0x89: ['server busy', 'server'],
  0x8a: ['banned', 'auth'],
  0x8b: ['server shutting down', 'server'],
  0x8d: ['keep alive timeout', 'network'],
  0x8e: ['session taken over', 'server'],
  0x90: ['topic name invalid', 'protocol'],
  0x95: ['packet too large', 'protocol'],
  0x96: ['message rate too high', 'rate-limit'],
  0x97: ['quota exceeded', 'rate-limit'],
  0x98: ['administrative action', 'server'],
  0x99: ['payload format invalid', 'protocol'],
  0x9f: ['connection rate exceeded', 'rate-limit'],
  0xa0: ['maximum connect time', 'server'],
};

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

export function connackCause(code: number, v5: boolean): Cause {
  const e = v5 ? REASON_V5[code] : CONNACK_V3[code];
  const name = e?.[0] ?? 'unknown code';
  return { cause: `refused: ${name} (${v5 ? hex(code) : code})`, class: e?.[1] ?? 'generic' };
}

export function disconnectReasonCause(code: number): Cause {
  const e = REASON_V5[code];
  return { cause: `server disconnect: ${e?.[0] ?? 'unknown reason'} (${hex(code)})`, class: e?.[1] ?? 'server' };
}

export function pubackReason(code: number): string {
  return `puback: ${REASON_V5[code]?.[0] ?? 'error'} (${hex(code)})`;
}

const ERRNO_CLASS: Record<string, CauseClass> = {
  ECONNRESET: 'network',
  ECONNREFUSED: 'network',
  ETIMEDOUT: 'network',
  EHOSTUNREACH: 'network',
  ENETUNREACH: 'network',
  EPIPE: 'network',
  ECONNABORTED: 'network',
  ENOTFOUND: 'network',
  EAI_AGAIN: 'network',
  ENETDOWN: 'network',
  EADDRNOTAVAIL: 'resources',
  EADDRINUSE: 'resources',
  EMFILE: 'resources',
  ENFILE: 'resources',
  ENOMEM: 'memory',
  ENOBUFS: 'memory',
  CERT_HAS_EXPIRED: 'auth',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'auth',
  SELF_SIGNED_CERT_IN_CHAIN: 'auth',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'auth',
  ERR_TLS_CERT_ALTNAME_INVALID: 'auth',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'auth',
};

/** A socket error: the errno code is the cause text (`ECONNRESET`, `EADDRNOTAVAIL`, …). */
export function socketErrorCause(e: NodeJS.ErrnoException): Cause {
  const code = e.code ?? 'socket error';
  return { cause: code, class: ERRNO_CLASS[code] ?? (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') ? 'auth' : 'generic') };
}

/** `429 Too Many Requests`: an HTTP answer other than 2xx, as status and reason phrase (one string per status). */
const STATUS_CAUSES = new Map<number, string>();
export function httpStatusCause(status: number): string {
  let c = STATUS_CAUSES.get(status);
  if (c === undefined) STATUS_CAUSES.set(status, (c = `${status} ${STATUS_CODES[status] ?? 'unknown status'}`));
  return c;
}

/** An HTTP request that got no answer: the errno code (`ECONNREFUSED`), a lost connection or a timeout. */
export function httpErrorCause(err: Error): string {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  switch (e.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'response timeout';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout';
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return `connection lost (${e.cause?.code ?? 'closed'})`;
    default:
      return e.code ?? e.cause?.code ?? 'request error';
  }
}

export const CAUSES = {
  /** The server closed TCP cleanly while the session was up. */
  serverClosed: { cause: 'server closed', class: 'server' },
  /** The server closed TCP before answering CONNECT. */
  closedBeforeConnack: { cause: 'server closed before CONNACK', class: 'server' },
  /** The server closed right after a publish that was never acknowledged: how ThingsBoard's MQTT
   * transport (path above) answers a device over its rate limits. */
  closedAfterPublish: { cause: 'server closed after publish (rate limit suspected)', class: 'rate-limit' },
  connectionLost: { cause: 'connection lost', class: 'network' },
  keepaliveTimeout: { cause: 'keepalive timeout', class: 'network' },
  connectTimeout: { cause: 'connect timeout', class: 'network' },
  protocolViolation: { cause: 'protocol violation', class: 'protocol' },
} as const satisfies Record<string, Cause>;

/** Error kinds counted in `errors.byClass` and per device (`DeviceRecord.errors`). */
export const ERROR_KINDS = [
  'connect-refused',
  'connect-error',
  'connect-timeout',
  'write-error',
  'ack-timeout',
  'lost-in-flight',
  'puback-error',
  'protocol',
  /** An HTTP request answered with a status other than 2xx, or failed on its connection. */
  'http-error',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];
