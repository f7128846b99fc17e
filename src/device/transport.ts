// Opening one device's byte stream: plain TCP or TLS (CA, client cert/key, explicit insecure
// switch), optionally from a given local source address. The engine only sees a net.Socket.
import net from 'node:net';
import tls from 'node:tls';

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Skip certificate verification (MQTT_TLS_INSECURE). */
  insecure: boolean;
}

export interface TransportTarget {
  host: string;
  port: number;
  /** null = plain TCP */
  tls: TlsMaterial | null;
}

/** Event that means "the stream is ready for the CONNECT packet". */
export const readyEvent = (t: TransportTarget): 'connect' | 'secureConnect' => (t.tls ? 'secureConnect' : 'connect');

/** Incoming bytes of a plain TCP stream: `n` bytes at the start of a buffer shared by every
 * stream, valid only during the call (`this` is the socket); `false` pauses the stream. */
export type ReadCallback = (this: net.Socket, n: number, buf: Buffer) => boolean;

/** One read buffer for every plain TCP stream of the process (reads run one at a time). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Opens the stream. With `onRead`, a plain TCP stream hands its bytes to `onRead` in a reused
 * buffer instead of emitting 'data' (Node's `onread` option): no Buffer per read and no readable
 * stream machinery, which QoS 1 pays once per PUBACK (B2, bench/README.md Finding 17). TLS streams
 * always emit 'data'.
 */
export function openStream(t: TransportTarget, localAddress: string | undefined, onRead?: ReadCallback): net.Socket {
  const base = { host: t.host, port: t.port, ...(localAddress ? { localAddress } : {}) };
  const s = t.tls
    ? tls.connect({
        ...base,
        ...(t.tls.ca ? { ca: t.tls.ca } : {}),
        ...(t.tls.cert ? { cert: t.tls.cert, key: t.tls.key } : {}),
        rejectUnauthorized: !t.tls.insecure,
        ...(net.isIP(t.host) ? {} : { servername: t.host }),
      })
    : net.connect(onRead ? { ...base, onread: { buffer: READ_BUFFER, callback: onRead } } : base);
  s.setNoDelay(true);
  return s;
}
