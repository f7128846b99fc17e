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

export function openStream(t: TransportTarget, localAddress: string | undefined): net.Socket {
  const base = { host: t.host, port: t.port, ...(localAddress ? { localAddress } : {}) };
  const s = t.tls
    ? tls.connect({
        ...base,
        ...(t.tls.ca ? { ca: t.tls.ca } : {}),
        ...(t.tls.cert ? { cert: t.tls.cert, key: t.tls.key } : {}),
        rejectUnauthorized: !t.tls.insecure,
        ...(net.isIP(t.host) ? {} : { servername: t.host }),
      })
    : net.connect(base);
  s.setNoDelay(true);
  return s;
}
