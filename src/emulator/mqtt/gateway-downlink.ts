// What a gateway session carries *down* for its children, and the gateway's answers to it, as
// ThingsBoard does it (common/transport/mqtt/.../session/AbstractGatewayDeviceSessionContext.java
// and AbstractGatewaySessionHandler.java, JSON payloads by adaptors/JsonMqttAdaptor.java and
// JsonConverter):
//   server-side RPC to a child  → `v1/gateway/rpc` {"device":name,"data":{"id","method","params"}}
//   the gateway's RPC reply     ← `v1/gateway/rpc` {"device":name,"id":n,"data":{…}}
//   shared attributes changed   → `v1/gateway/attributes` {"device":name,"data":{…}|{"deleted":[…]}}
//   attribute request           ← `v1/gateway/attributes/request` {"id","device","client","key"|"keys"}
//                               → `v1/gateway/attributes/response` {"id","device","value"|"values"}
// A child's session is registered with SUBSCRIBE_TO_RPC and SUBSCRIBE_TO_ATTRIBUTE_UPDATES as soon as
// the gateway connects it (AbstractGatewaySessionHandler#getDeviceCreationFuture), so ThingsBoard
// writes these publishes whether or not the gateway subscribed; the subscription only sets their QoS
// (MqttDeviceAwareSessionContext#getQoSForTopic: the granted QoS, else AT_LEAST_ONCE).
import type { Device } from '../model.js';
import type { RpcRequest } from './rpc.js';
import type { Session } from './session.js';

export const GATEWAY_RPC = 'v1/gateway/rpc';
export const GATEWAY_ATTRIBUTES = 'v1/gateway/attributes';
export const GATEWAY_ATTRIBUTES_REQUEST = 'v1/gateway/attributes/request';
const GATEWAY_ATTRIBUTES_RESPONSE = 'v1/gateway/attributes/response';

/** A RuntimeException outside the child's future in ThingsBoard: PUBACK 0x83 and the gateway is closed. */
export class GatewayFailure extends Error {}

/** How a gateway publish of the child ended: acknowledged (reason code), or left unanswered (an exception in a callback). */
export type DownlinkAck = { ack: number } | { ack: null };

export class GatewayDownlink {
  constructor(private readonly s: Session) {}

  /** onToDeviceRpcRequest → convertToGatewayPublish: JsonConverter.toJson(request, includeRequestId = true) under "data". */
  rpcRequest(child: Device, id: number, req: RpcRequest): void {
    this.publish(GATEWAY_RPC, { device: child.name, data: { id, method: req.method, params: req.params ?? null } });
  }

  /** onAttributeUpdate → JsonConverter.getJsonObjectForGateway(deviceName, notification). */
  attributeUpdate(child: Device, data: Record<string, unknown>): void {
    this.publish(GATEWAY_ATTRIBUTES, { device: child.name, data });
  }

  /**
   * onDeviceRpcResponseJson: `device` is read first (missing → a RuntimeException), then, once the child
   * is connected (checkDeviceConnected connects it), `id` and `data` (missing → the callback throws: no
   * PUBACK); `data` goes to the waiting call as JSON text; PUBACK once processed.
   */
  rpcResponse(json: unknown, child: (name: string) => Device | null): DownlinkAck {
    const o = object(json);
    const d = child(stringField(o, 'device'));
    if (!d) return { ack: null };
    const id = o.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || o.data === undefined) return { ack: null };
    this.s.server.rpc.response(d, String(id), JSON.stringify(o.data));
    return { ack: 0 };
  }

  /**
   * onDeviceAttributesRequestJson: `id`, `device`, `client` and `key` or `keys` are read before anything
   * else (missing → a RuntimeException); a child that cannot be connected → PUBACK 0x83, the gateway
   * stays; else PUBACK and the answer (JsonConverter.getJsonObjectForGateway(name, response)): one key
   * asked with `key` → "value", `keys` → "values" {k: v}; keys without a value are left out.
   */
  attributeRequest(json: unknown, child: (name: string) => Device | null, failedReason: number): DownlinkAck {
    const o = object(json);
    const id = o.id;
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new GatewayFailure('no request id');
    const name = stringField(o, 'device');
    if (typeof o.client !== 'boolean') throw new GatewayFailure('no "client"');
    let keys: string[];
    const multiple = o.key === undefined;
    if (!multiple) keys = [String(o.key)];
    else if (Array.isArray(o.keys)) keys = o.keys.map(String);
    else throw new GatewayFailure('no "key" or "keys"');
    const d = child(name);
    if (!d) return { ack: failedReason };
    const stored = d.state.attributes[o.client ? 'CLIENT_SCOPE' : 'SHARED_SCOPE'];
    const values: Record<string, unknown> = {};
    let found = 0;
    for (const k of keys) {
      const v = stored.get(k);
      if (v === undefined) continue;
      values[k] = v.value;
      found++;
    }
    const body: Record<string, unknown> = { id, device: name };
    if (found === 1 && !multiple) body.value = values[keys[0]];
    else if (found > 0) body.values = values;
    this.publish(GATEWAY_ATTRIBUTES_RESPONSE, body);
    return { ack: 0 };
  }

  /** JsonMqttAdaptor.createMqttPublishMsg: QoS as the gateway subscribed the topic (else 1), the connection's next id. */
  private publish(topic: string, body: unknown): void {
    this.s.downlink.publish(topic, JSON.stringify(body));
  }
}

function object(json: unknown): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new GatewayFailure('not a JSON object');
  return json as Record<string, unknown>;
}

/** `json.get(name).getAsString()`: absent or not a primitive → a RuntimeException. */
function stringField(o: Record<string, unknown>, name: string): string {
  const v = o[name];
  if (v === undefined || v === null || typeof v === 'object') throw new GatewayFailure(`no "${name}"`);
  return String(v);
}
