// ThingsBoard's WebSocket telemetry API as a client (docs/thingsboard-behaviour.md#websocket-telemetry-api): latest-telemetry
// subscriptions over `/api/ws` with the auth command, falling back to the legacy
// `/api/ws/plugins/telemetry?token=` form, re-opened with backoff when the server drops it.
import WebSocket from 'ws';
import { LabError, describeError } from '../common/errors.js';
import { redactUrl } from '../common/redact.js';

export interface TsSubscription {
  /** Unique per socket (`subscriptionId` of the updates). */
  cmdId: number;
  entityId: string;
  /** Keys to follow, e.g. `['timestamp', 'sequence']`. */
  keys: string[];
}

/** One `TelemetrySubscriptionUpdate`; `data` values are `[ts, "value"]` pairs. */
export interface TsUpdate {
  subscriptionId: number;
  errorCode: number;
  errorMsg: string | null;
  data: Record<string, [number, string][]>;
}

export type WsEndpoint = '/api/ws' | '/api/ws/plugins/telemetry';

export interface TelemetrySocketOptions {
  /** REST base URL (http/https); the WebSocket URL is derived from it. */
  baseUrl: string;
  /** A current access token (called again on every reconnect). */
  token: () => Promise<string>;
  subscriptions: TsSubscription[];
  /** Every update after the first snapshot of its subscription; `receivedAt` = local ms. */
  onUpdate: (u: TsUpdate, receivedAt: number) => void;
  /** Human notes (fallback used, reconnects, errors in updates). */
  onNote?: (msg: string) => void;
  /** Wait for the first answer of one endpoint, ms (default 10000). */
  openTimeoutMs?: number;
}

/** Commands per frame: ThingsBoard caps inbound text frames at 32 KB. */
const CMDS_PER_FRAME = 100;

function wsUrl(baseUrl: string, path: string): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = u.pathname.replace(/\/+$/, '') + path;
  return u.toString();
}

function frames(endpoint: WsEndpoint, token: string, subs: TsSubscription[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(1, subs.length); i += CMDS_PER_FRAME) {
    const part = subs
      .slice(i, i + CMDS_PER_FRAME)
      .map((s) => ({ entityType: 'DEVICE', entityId: s.entityId, scope: 'LATEST_TELEMETRY', cmdId: s.cmdId, keys: s.keys.join(',') }));
    if (endpoint === '/api/ws') {
      out.push(
        JSON.stringify({ ...(i === 0 ? { authCmd: { cmdId: 0, token } } : {}), cmds: part.map((c) => ({ type: 'TIMESERIES', ...c })) }),
      );
    } else out.push(JSON.stringify({ tsSubCmds: part, historyCmds: [], attrSubCmds: [] }));
  }
  return out;
}

export class TelemetrySocket {
  /** The endpoint in use once open. */
  endpoint: WsEndpoint | null = null;
  /** Updates received (snapshots excluded) and reconnects made. */
  readonly counts = { updates: 0, reconnects: 0 };
  private ws: WebSocket | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: TelemetrySocketOptions) {}

  /** Opens `/api/ws`, or the legacy endpoint when that fails; throws TARGET_UNREACHABLE when neither answers. */
  async open(): Promise<WsEndpoint> {
    const order: WsEndpoint[] = this.endpoint === '/api/ws/plugins/telemetry' ? [this.endpoint] : ['/api/ws', '/api/ws/plugins/telemetry'];
    const failures: string[] = [];
    for (const ep of order) {
      try {
        await this.tryOpen(ep);
        if (ep !== '/api/ws') this.o.onNote?.(`WebSocket: ${failures.join('; ')}; using the legacy ${ep}`);
        this.endpoint = ep;
        return ep;
      } catch (e) {
        failures.push(`${ep} failed (${describeError(e)})`);
      }
    }
    throw new LabError('TARGET_UNREACHABLE', {
      message: `ThingsBoard's WebSocket API at ${redactUrl(wsUrl(this.o.baseUrl, ''))} did not work: ${failures.join('; ')}`,
      hint: 'Ingest latency needs the WebSocket telemetry API (a proxy in front of ThingsBoard must pass WebSocket upgrades); LATENCY_SAMPLE=0 turns it off.',
    });
  }

  private async tryOpen(ep: WsEndpoint): Promise<void> {
    const token = await this.o.token();
    const url = wsUrl(this.o.baseUrl, ep) + (ep === '/api/ws' ? '' : `?token=${encodeURIComponent(token)}`);
    const ws = new WebSocket(url, { handshakeTimeout: this.o.openTimeoutMs ?? 10_000 });
    const seen = new Set<number>();
    let settled = false;
    await new Promise<void>((resolve, reject) => {
      const settle = (e?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!e) return resolve();
        ws.terminate();
        reject(e);
      };
      const timer = setTimeout(() => settle(new Error('no answer in time')), this.o.openTimeoutMs ?? 10_000);
      ws.once('unexpected-response', (_req, res) => settle(new Error(`HTTP ${res.statusCode}`)));
      ws.on('error', (e) => settle(e));
      ws.on('close', (code, reason) => {
        if (!settled) settle(new Error(`closed ${code}${reason.length ? ` ${String(reason)}` : ''}`));
        else if (this.ws === ws) this.dropped(code);
      });
      ws.once('open', () => {
        for (const f of frames(ep, token, this.o.subscriptions)) ws.send(f);
        if (this.o.subscriptions.length === 0) settle();
      });
      // the first answer (a snapshot) proves the endpoint works
      ws.on('message', (data) => {
        this.message(String(data), seen);
        settle();
      });
    });
    this.ws = ws;
  }

  private message(text: string, seen: Set<number>): void {
    const at = Date.now();
    let u: TsUpdate;
    try {
      u = JSON.parse(text) as TsUpdate;
    } catch {
      return;
    }
    if (u.errorCode) {
      this.o.onNote?.(`WebSocket subscription ${u.subscriptionId}: error ${u.errorCode} ${u.errorMsg ?? ''}`.trim());
      return;
    }
    // the first message of a subscription is the snapshot of values stored before it
    if (!seen.has(u.subscriptionId)) {
      seen.add(u.subscriptionId);
      return;
    }
    this.counts.updates++;
    this.o.onUpdate(u, at);
  }

  private dropped(code: number): void {
    this.ws = null;
    if (this.closed) return;
    this.o.onNote?.(`WebSocket closed by the server (${code}); re-opening`);
    const retry = (attempt: number) => {
      this.retryTimer = setTimeout(
        () => {
          if (this.closed) return;
          this.counts.reconnects++;
          this.open().catch(() => retry(attempt + 1));
        },
        Math.min(30_000, 1000 * 2 ** attempt),
      );
      this.retryTimer.unref();
    };
    retry(0);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ws?.close(1000);
    this.ws = null;
  }
}
