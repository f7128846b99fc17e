// MQTT reachability for `tblab check`: a TCP connect or TLS handshake, then optionally one CONNECT
// with a device's credentials (packet built by mqtt-packet), reading the CONNACK, then DISCONNECT.
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import mqttPacket from 'mqtt-packet';
import type { DeviceCredentials } from '../common/fleet.js';

export interface MqttTarget {
  host: string;
  port: number;
  tls: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecure?: boolean;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. */
  protocolVersion: 4 | 5;
  timeoutMs: number;
}

export interface ProbeResult {
  /** TCP connect (+ TLS handshake) time, ms. */
  connectMs: number;
  /** Negotiated TLS version, e.g. TLSv1.3. */
  tlsProtocol?: string;
  /** CONNACK return code (3.1.1) or reason code (5) and the round trip, when credentials were given. */
  connack?: { code: number; ms: number };
}

/** Connects (and CONNECTs when `creds` is given); rejects with the socket error or a timeout. */
export async function probeMqtt(t: MqttTarget, creds?: { clientId: string; credentials: DeviceCredentials }): Promise<ProbeResult> {
  const t0 = performance.now();
  const socket = await open(t);
  const result: ProbeResult = {
    connectMs: round(performance.now() - t0),
    ...(t.tls ? { tlsProtocol: (socket as TLSSocket).getProtocol() ?? undefined } : {}),
  };
  try {
    if (creds) result.connack = await connectOnce(socket, t, creds.clientId, creds.credentials);
    return result;
  } finally {
    socket.destroy();
  }
}

function open(t: MqttTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s: Socket = t.tls
      ? tlsConnect({
          host: t.host,
          port: t.port,
          servername: /^[\d.:]+$/.test(t.host) ? undefined : t.host,
          ca: t.caFile ? readFileSync(t.caFile) : undefined,
          cert: t.certFile ? readFileSync(t.certFile) : undefined,
          key: t.keyFile ? readFileSync(t.keyFile) : undefined,
          rejectUnauthorized: !t.insecure,
        })
      : tcpConnect({ host: t.host, port: t.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(Object.assign(new Error(`no ${t.tls ? 'TLS handshake' : 'connection'} within ${t.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, t.timeoutMs);
    s.once(t.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function connectOnce(s: Socket, t: MqttTarget, clientId: string, c: DeviceCredentials): Promise<{ code: number; ms: number }> {
  const auth =
    c.type === 'ACCESS_TOKEN'
      ? { username: c.token }
      : c.type === 'MQTT_BASIC'
        ? {
            username: c.username ?? undefined,
            password: c.password ? Buffer.from(c.password) : undefined,
            clientId: c.clientId ?? clientId,
          }
        : {};
  const packet = {
    cmd: 'connect' as const,
    protocolId: 'MQTT' as const,
    protocolVersion: t.protocolVersion,
    clean: true,
    keepalive: 30,
    clientId,
    ...auth,
  };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const parser = mqttPacket.parser({ protocolVersion: t.protocolVersion });
    const timer = setTimeout(
      () => reject(Object.assign(new Error(`no CONNACK within ${t.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      t.timeoutMs,
    );
    const done = (f: () => void) => {
      clearTimeout(timer);
      s.removeAllListeners('data');
      f();
    };
    parser.on('packet', (p: { cmd: string; returnCode?: number; reasonCode?: number }) => {
      if (p.cmd !== 'connack') return;
      const code = p.returnCode ?? p.reasonCode ?? 0;
      if (code === 0) s.write(mqttPacket.generate({ cmd: 'disconnect' }, { protocolVersion: t.protocolVersion }));
      done(() => resolve({ code, ms: round(performance.now() - t0) }));
    });
    parser.on('error', (e: Error) => done(() => reject(e)));
    s.on('data', (b: Buffer) => parser.parse(b));
    s.once('close', () => done(() => reject(Object.assign(new Error('connection closed before CONNACK'), { code: 'ECONNRESET' }))));
    s.write(mqttPacket.generate(packet, { protocolVersion: t.protocolVersion }));
  });
}

const round = (ms: number) => Math.round(ms * 10) / 10;
