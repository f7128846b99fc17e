// ThingsBoard's WebSocket telemetry API on the emulator's HTTP server (docs/thingsboard-behaviour.md#websocket-telemetry-api):
// `/api/ws` authenticated by `?token=` or an `authCmd` first message within the auth timeout, the
// legacy `/api/ws/plugins/telemetry`, close codes 1007/1008/1011, and the pending-updates cap.
import type { Server, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Auth } from './auth.js';
import type { Store } from './store.js';
import type { EmulatorEvents } from './events.js';
import { parseWsMessage } from './ws-commands.js';
import { errorUpdate, WsSubscriptions, type WsUpdate } from './ws-subscriptions.js';

export interface WsApiOptions {
  /** The first message must carry `authCmd` within this long, ms (ThingsBoard: 10000). */
  authTimeoutMs: number;
  /** Updates not yet flushed to one session beyond which it is closed 1008, (ThingsBoard: 1000). */
  maxPendingUpdates: number;
  /** Serve `/api/ws`; false imitates an older server with only the legacy endpoint. */
  currentEndpoint: boolean;
}

/** Close codes ThingsBoard uses (RFC 6455 numbers). */
const CLOSE = { POLICY_VIOLATION: 1008, BAD_DATA: 1007, SERVER_ERROR: 1011 } as const;
/** ThingsBoard's inbound text frame limit, bytes (`server.ws.max_text_message_size`). */
const MAX_FRAME = 32768;

export class WsApi {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  private readonly subs: WsSubscriptions;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head);
  /** Sessions opened and currently open. */
  readonly counters = { opened: 0, open: 0 };

  constructor(
    private readonly server: Server,
    private readonly auth: Auth,
    store: Store,
    events: EmulatorEvents,
    private readonly opts: WsApiOptions,
  ) {
    this.subs = new WsSubscriptions(store, events);
    server.on('upgrade', this.onUpgrade);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.replace(/\/+$/, '');
    const known = (path === '/api/ws' && this.opts.currentEndpoint) || path === '/api/ws/plugins/telemetry';
    if (!known && !path.startsWith('/api/ws/plugins/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (!known) return ws.close(CLOSE.BAD_DATA, 'Unknown plugin');
      this.counters.opened++;
      this.counters.open++;
      ws.once('close', () => this.counters.open--);
      this.session(ws, url.searchParams.get('token'), path === '/api/ws' ? 'general' : 'legacy');
    });
  }

  private async verify(token: string | undefined): Promise<boolean> {
    if (!token) return false;
    try {
      const claims = await this.auth.verify(token);
      return !!claims.scopes?.includes('TENANT_ADMIN');
    } catch {
      return false;
    }
  }

  private session(ws: WebSocket, queryToken: string | null, form: 'general' | 'legacy'): void {
    let authed = false;
    let pending = 0;
    const subs = new Map<number, { remove(): void }>();
    const close = (code: number, reason: string) => {
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    };
    const sink = {
      send: (u: WsUpdate) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (++pending > this.opts.maxPendingUpdates) return close(CLOSE.POLICY_VIOLATION, 'Max pending updates limit reached!');
        ws.send(JSON.stringify(u), () => pending--);
      },
    };
    // protocol errors (a frame over the limit: 1009) end in a close; they must not crash the emulator
    ws.on('error', () => {});
    const timer = setTimeout(() => {
      if (!authed) close(CLOSE.POLICY_VIOLATION, 'Auth timeout');
    }, this.opts.authTimeoutMs);
    ws.once('close', () => {
      clearTimeout(timer);
      for (const s of subs.values()) s.remove();
      subs.clear();
    });

    const handle = async (text: string) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const msg = parseWsMessage(text, form);
      if (!authed) {
        if (!msg || !msg.hasAuthCmd) return close(CLOSE.POLICY_VIOLATION, 'Auth cmd is missing');
        if (!(await this.verify(msg.authToken))) return close(CLOSE.BAD_DATA, 'Invalid token');
        authed = true;
        clearTimeout(timer);
      }
      if (!msg) return sink.send(errorUpdate(0, 2, 'Failed to parse the payload'));
      for (const u of msg.unsubscribe) {
        subs.get(u.cmdId)?.remove();
        subs.delete(u.cmdId);
      }
      for (const r of msg.rejected) sink.send(errorUpdate(r.cmdId, r.errorCode, r.errorMsg));
      for (const cmd of msg.subscribe) {
        subs.get(cmd.cmdId)?.remove();
        const added = this.subs.add(sink, cmd);
        if ('remove' in added) subs.set(cmd.cmdId, added);
        else sink.send(added);
      }
    };
    // one message at a time, in order: authentication is asynchronous
    let chain: Promise<void> = Promise.resolve();
    const enqueue = (fn: () => Promise<void>) => {
      chain = chain.then(fn).catch(() => close(CLOSE.SERVER_ERROR, 'Internal error'));
    };
    if (queryToken !== null) {
      enqueue(async () => {
        if (await this.verify(queryToken)) {
          authed = true;
          clearTimeout(timer);
        } else close(CLOSE.SERVER_ERROR, 'Invalid token');
      });
    }
    ws.on('message', (data, isBinary) => {
      if (!isBinary) enqueue(() => handle(String(data)));
    });
  }

  /** Drops every session and stops accepting upgrades. */
  async close(): Promise<void> {
    this.server.off('upgrade', this.onUpgrade);
    for (const ws of this.wss.clients) ws.terminate();
    this.subs.close();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
