// Server-side RPC from the REST API to a device's MQTT session, as ThingsBoard's device actor does it
// (application/.../actors/device/DeviceActorMessageProcessor.java#processRpcRequest): a request goes
// to the device's session when it subscribed to `v1/devices/me/rpc/request/+` ("sent"); a one-way
// request that was sent is answered at once; anything else waits for the device's response on
// `v1/devices/me/rpc/response/{id}` or its expiry, which answers TIMEOUT when it was sent and
// NO_ACTIVE_CONNECTION when it was not. A request not yet sent goes out when the device subscribes.
import type { Device } from '../model.js';
import type { MqttServer } from './server.js';
import type { Session } from './session.js';

export type RpcOutcome = { kind: 'response'; body: string | null } | { kind: 'timeout' } | { kind: 'no-connection' };

export interface RpcRequest {
  method: string;
  params: unknown;
  oneway: boolean;
  /** Expiry, ms on the emulator's clock. */
  expiresAt: number;
}

interface Pending {
  id: number;
  req: RpcRequest;
  sent: boolean;
  timer: NodeJS.Timeout;
  done(o: RpcOutcome): void;
}

export interface RpcCounters {
  requests: number;
  /** Published to a device session. */
  delivered: number;
  /** Ended with the device's response (two-way) or at delivery (one-way). */
  answered: number;
  timeouts: number;
  noConnection: number;
  /** REST calls for what the emulator does not imitate (persistent RPC), refused. */
  unimplemented: number;
}

export class RpcBroker {
  readonly counters: RpcCounters = { requests: 0, delivered: 0, answered: 0, timeouts: 0, noConnection: 0, unimplemented: 0 };
  /** DeviceActorMessageProcessor.rpcSeq: request ids per device, from 0. */
  private readonly seq = new Map<string, number>();
  private readonly pending = new Map<string, Map<number, Pending>>();

  constructor(private readonly server: MqttServer) {}

  call(d: Device, req: RpcRequest): Promise<RpcOutcome> {
    this.counters.requests++;
    const ttl = req.expiresAt - this.server.clock();
    // processRpcRequest ignores an already expired request; the REST caller then gets its timeout answer
    if (ttl <= 0) return Promise.resolve(this.end({ kind: 'timeout' }));
    const id = this.seq.get(d.id) ?? 0;
    this.seq.set(d.id, id + 1);
    const s = this.server.sessionOf(d.id);
    const sent = s !== undefined && s.rpcRequests && !s.closed;
    if (sent) this.publish(s, id, req);
    if (req.oneway && sent) return Promise.resolve(this.end({ kind: 'response', body: null }));
    return new Promise((resolve) => {
      const byId = this.pending.get(d.id) ?? new Map<number, Pending>();
      this.pending.set(d.id, byId);
      const p: Pending = {
        id,
        req,
        sent,
        done: (o) => resolve(this.end(o)),
        timer: setTimeout(() => {
          byId.delete(id);
          if (byId.size === 0) this.pending.delete(d.id);
          p.done(p.sent ? { kind: 'timeout' } : { kind: 'no-connection' });
        }, ttl),
      };
      byId.set(id, p);
    });
  }

  /** The session subscribed to RPC requests: what waits unsent goes out now (sendPendingRequests). */
  deliverPending(s: Session): void {
    const byId = this.pending.get(s.device!.id);
    if (!byId) return;
    for (const p of byId.values()) {
      if (p.sent) continue;
      p.sent = true;
      this.publish(s, p.id, p.req);
      if (p.req.oneway) this.settle(s.device!.id, p.id, { kind: 'response', body: null });
    }
  }

  /** A device published `v1/devices/me/rpc/response/{id}`; false when nothing waits for that id. */
  response(d: Device, id: string, payload: string): boolean {
    return /^\d+$/.test(id) && this.settle(d.id, Number(id), { kind: 'response', body: payload });
  }

  private settle(deviceId: string, id: number, o: RpcOutcome): boolean {
    const byId = this.pending.get(deviceId);
    const p = byId?.get(id);
    if (!p) return false;
    byId!.delete(id);
    if (byId!.size === 0) this.pending.delete(deviceId);
    clearTimeout(p.timer);
    p.done(o);
    return true;
  }

  private end(o: RpcOutcome): RpcOutcome {
    if (o.kind === 'response') this.counters.answered++;
    else if (o.kind === 'timeout') this.counters.timeouts++;
    else this.counters.noConnection++;
    return o;
  }

  private publish(s: Session, id: number, req: RpcRequest): void {
    this.counters.delivered++;
    // JsonConverter.toJson(ToDeviceRpcRequestMsg, includeRequestId = false): {"method","params"}
    const payload = JSON.stringify({ method: req.method, params: req.params ?? null });
    s.send({ cmd: 'publish', topic: `v1/devices/me/rpc/request/${id}`, payload, qos: 0, dup: false, retain: false });
  }

  /** Emulator shutdown: no timer outlives it. */
  close(): void {
    for (const byId of this.pending.values()) for (const p of byId.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}
