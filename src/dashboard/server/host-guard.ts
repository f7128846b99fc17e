// Who may talk to the dashboard. Bound to a loopback address, only this machine can connect, but a
// web page it visits still can through DNS rebinding (evil.example resolving to 127.0.0.1): the
// browser then sends `Host: evil.example`. So a loopback-bound dashboard answers only requests whose
// Host names a loopback address, as webpack-dev-server and Jupyter do; any other bind address is
// reachable from the network, which the lab says at start (exposureWarning).
import type { FastifyInstance } from 'fastify';

/** `127.0.0.0/8`, `::1` (also as `::ffff:127.x`) and `localhost` (with RFC 6761 `*.localhost`). */
export function isLoopbackName(host: string): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127(\.\d{1,3}){3}$/.test(v4);
}

/** The host name of a `Host` header value (`name:port`, `[v6]:port`). */
export function hostOfHeader(value: string): string {
  const v = value.trim();
  if (v.startsWith('[')) return v.slice(0, v.indexOf(']') + 1);
  const colon = v.lastIndexOf(':');
  return colon >= 0 && v.indexOf(':') === colon ? v.slice(0, colon) : v;
}

/** Refuses (403) requests whose Host is not a loopback name when the dashboard listens on loopback only. */
export function guardHost(app: FastifyInstance, bindHost: string): void {
  if (!isLoopbackName(bindHost)) return;
  app.addHook('onRequest', async (req, reply) => {
    const header = req.headers.host;
    if (header === undefined || isLoopbackName(hostOfHeader(header))) return;
    return reply
      .code(403)
      .header('cache-control', 'no-store')
      .send({
        status: 403,
        message:
          `Host ${JSON.stringify(header)} is not this machine: the dashboard listens on ${bindHost} and answers only ` +
          'requests addressed to localhost / 127.0.0.1 / [::1] (a page that renamed 127.0.0.1 must not read it)',
        timestamp: Date.now(),
      });
  });
}

/** The warning to print when the dashboard listens beyond this machine, else null. */
export function exposureWarning(bindHost: string): string | null {
  if (isLoopbackName(bindHost)) return null;
  return (
    `warning: the dashboard listens on ${bindHost}, reachable from other machines: anyone who can reach it reads the run's ` +
    'metrics (only the stop needs the control token); set METRICS_HOST=127.0.0.1 unless remote access is needed'
  );
}
