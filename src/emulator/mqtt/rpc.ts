// Server-side RPC from the REST API to a device's MQTT session, as ThingsBoard's device actor does it
// (application/.../actors/device/DeviceActorMessageProcessor.java#processRpcRequest): a request goes
// to the device's session when it subscribed to `v1/devices/me/rpc/request/+` ("sent"); a one-way
// request that was sent is answered at once; anything else waits for the device's response on
// `v1/devices/me/rpc/response/{id}` or its expiry, which answers TIMEOUT when it was sent and
// NO_ACTIVE_CONNECTION when it was not. A request not yet sent goes out when the device subscribes.
// A gateway's child device has its session on the gateway's connection, subscribed to RPC from its
// connect on (AbstractGatewaySessionHandler): its requests go out on `v1/gateway/rpc` (./gateway-downlink.ts).
import type { Device } from '../model.js';
import type { MqttServer } from './server.js';
import type { Session } from './session.js';
import { protoRpcRequestError } from './short-topics.js';

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
  /** Device responses dropped by the rpcTimeoutShare fault (their calls end as timeouts). */
  lostByFault: number;
  /** Client-side RPC requests (`v1/devices/me/rpc/request/{n}`) answered by the emulator's reply rule. */
  clientAnswered: number;
  /** Of `delivered`: published to a gateway for one of its child devices (`v1/gateway/rpc`). */
  viaGateway: number;
}

export class RpcBroker {
  readonly counters: RpcCounters = {
    requests: 0,
    delivered: 0,
    answered: 0,
    timeouts: 0,
    noConnection: 0,
    unimplemented: 0,
    lostByFault: 0,
    clientAnswered: 0,
    viaGateway: 0,
  };
  /** DeviceActorMessageProcessor.rpcSeq: request ids per device, from 0. */
  private readonly seq = new Map<string, number>();
  private readonly pending = new Map<string, Map<number, Pending>>();
  private readonly delayed = new Set<NodeJS.Timeout>();

  constructor(private readonly server: MqttServer) {}

  call(d: Device, req: RpcRequest): Promise<RpcOutcome> {
    this.counters.requests++;
    const ttl = req.expiresAt - this.server.clock();
    // processRpcRequest ignores an already expired request; the REST caller then gets its timeout answer
    if (ttl <= 0) return Promise.resolve(this.end({ kind: 'timeout' }));
    const id = this.seq.get(d.id) ?? 0;
    this.seq.set(d.id, id + 1);
    const out = this.route(d.id);
    const sent = out !== null;
    if (out) out(id, req);
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

  /** The device's own session subscribed to RPC (or its gateway connected it): what waits unsent goes out now (sendPendingRequests). */
  deliverPending(deviceId: string): void {
    const byId = this.pending.get(deviceId);
    const out = byId && this.route(deviceId);
    if (!out) return;
    for (const p of byId.values()) {
      if (p.sent) continue;
      p.sent = true;
      out(p.id, p.req);
      if (p.req.oneway) this.settle(deviceId, p.id, { kind: 'response', body: null });
    }
  }

  /** Where the device's requests go: its own session subscribed to them, else the gateway session carrying it; null: nowhere. */
  private route(deviceId: string): ((id: number, req: RpcRequest) => void) | null {
    const s = this.server.sessionOf(deviceId);
    if (s && s.rpcRequests && !s.closed) return (id, req) => this.publish(s, id, req);
    const g = this.server.childSessions.get(deviceId);
    const child = g && !g.closed ? this.server.store.registry.devices.get(deviceId) : undefined;
    if (!child) return null;
    return (id, req) => {
      this.counters.delivered++;
      this.counters.viaGateway++;
      g!.down.rpcRequest(child, id, req);
    };
  }

  /**
   * A device published `v1/devices/me/rpc/response/{id}`; false when nothing waits for that id. Faults: a share of
   * responses is lost (the call keeps waiting for its expiry), the others reach the caller `rpcResponseDelayMs` later.
   */
  response(d: Device, id: string, payload: string): boolean {
    if (!/^\d+$/.test(id)) return false;
    const p = this.pending.get(d.id)?.get(Number(id));
    if (!p) return false;
    const f = this.server.faults;
    if (f.rpcTimeoutShare > 0 && Math.random() < f.rpcTimeoutShare) {
      this.counters.lostByFault++;
      return true;
    }
    return this.settle(d.id, p.id, { kind: 'response', body: payload }, f.rpcResponseDelayMs);
  }

  /**
   * Client-side RPC answered by a reply rule (`clientRpcReply`): ThingsBoard hands the request to the rule engine
   * (MqttTransportHandler → TransportService.process(ToServerRpcRequestMsg)); a chain ending in the "rpc call reply"
   * node (rule-engine/…/rpc/TbSendRPCReplyNode.java) sends the message data, `{"method","params"}`, back on
   * `v1/devices/me/rpc/response/{id}`.
   */
  clientRequest(s: Session, id: string, payload: string): boolean {
    let req: { method?: unknown; params?: unknown };
    try {
      req = JSON.parse(payload) as typeof req;
    } catch {
      return false;
    }
    if (typeof req !== 'object' || req === null || typeof req.method !== 'string') return false;
    const body = JSON.stringify({ method: req.method, params: req.params ?? null });
    const reply = () => {
      if (s.closed) return;
      this.counters.clientAnswered++;
      // onToServerRpcResponse: on the session's toServerRpcSubTopicType as it is when the answer comes
      s.downlink.publish(`${s.toServerRpcTopics.rpcResponse}${id}`, body);
    };
    const delay = this.server.faults.rpcResponseDelayMs;
    if (delay > 0) this.later(reply, delay);
    else reply();
    return true;
  }

  private settle(deviceId: string, id: number, o: RpcOutcome, delayMs = 0): boolean {
    const byId = this.pending.get(deviceId);
    const p = byId?.get(id);
    if (!p) return false;
    byId!.delete(id);
    if (byId!.size === 0) this.pending.delete(deviceId);
    clearTimeout(p.timer);
    if (delayMs > 0) this.later(() => p.done(o), delayMs);
    else p.done(o);
    return true;
  }

  /** A delayed step that emulator shutdown cancels. */
  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.delayed.delete(t);
      fn();
    }, ms);
    this.delayed.add(t);
  }

  private end(o: RpcOutcome): RpcOutcome {
    if (o.kind === 'response') this.counters.answered++;
    else if (o.kind === 'timeout') this.counters.timeouts++;
    else this.counters.noConnection++;
    return o;
  }

  private publish(s: Session, id: number, req: RpcRequest): void {
    if (s.rpcTopics.proto) {
      // MqttTransportHandler#onToDeviceRpcRequest: the conversion fails and sendErrorRpcResponse answers the call
      const body = protoRpcRequestError(req.method, req.params);
      return this.later(() => this.settle(s.device!.id, id, { kind: 'response', body }), 0);
    }
    this.counters.delivered++;
    // JsonConverter.toJson(ToDeviceRpcRequestMsg, includeRequestId = false): {"method","params"}, on rpcSubTopicType's topic
    const payload = JSON.stringify({ method: req.method, params: req.params ?? null });
    s.downlink.publish(`${s.rpcTopics.rpcRequest}${id}`, payload); // at the RPC subscription's granted QoS
  }

  /** Emulator shutdown: no timer outlives it. */
  close(): void {
    for (const byId of this.pending.values()) for (const p of byId.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
  }
}
