// Device-API publishes other than telemetry (the fast path stays in session.ts): client attributes and
// attribute requests (attributes.ts), `v2/*` (short-topics.ts), and the answer ThingsBoard gives a topic it does not know.
// Topic routing follows MqttTransportHandler#processDevicePublish.
import type { ISubscribePacket, IUnsubscribePacket, Packet } from 'mqtt-packet';
import { RC5 } from './packets.js';
import type { Session } from './session.js';
import { GATEWAY_PREFIX, GatewaySession } from './gateway.js';
import { CLAIM_TOPIC, onClaimPublish } from './claim.js';
import { onShortTopic, subscribeShort, unsubscribeShort, V1 } from './short-topics.js';
import { answerAttributeRequest, postAttributes } from './attributes.js';
import { refuseUnimplemented } from './unimplemented.js';

export const ATTRIBUTES = 'v1/devices/me/attributes';
const ATTR_REQUEST = 'v1/devices/me/attributes/request/';
const RPC_RESPONSE = 'v1/devices/me/rpc/response/';
const RPC_REQUEST = 'v1/devices/me/rpc/request/';
/** MqttTransportHandler#processSubscribe: the filters it accepts (others get a failure code). */
const SUBSCRIBABLE = [
  /^v1\/devices\/me\/attributes$/,
  /^v1\/devices\/me\/attributes\/response\/(\+|\d+)$/,
  /^v1\/devices\/me\/rpc\/(request|response)\/(\+|\d+)$/,
  /^v1\/gateway\/(attributes|attributes\/response|rpc)$/,
];
const RPC_REQUESTS = 'v1/devices/me/rpc/request/+';

/** ThingsBoard topics the emulator does not imitate → the family counted in stats' `unimplemented`. */
function notImitated(topic: string): string | null {
  if (topic.startsWith(RPC_REQUEST)) return 'v1/devices/me/rpc/request (client-side RPC)';
  if (topic.startsWith(GATEWAY_PREFIX)) return topic;
  return null;
}

/** One publish of an authenticated session on any topic but telemetry. */
export function onTopic(s: Session, topic: string, payload: string, qos: number, packetId: number, now: number): void {
  const d = s.device!;
  const server = s.server;
  if (topic === ATTRIBUTES) return postAttributes(s, payload, qos, packetId, now);
  if (topic.startsWith(ATTR_REQUEST)) {
    if (qos > 0) s.ack(packetId);
    answerAttributeRequest(s, V1.attributesResponse, topic.slice(ATTR_REQUEST.length), payload);
    return;
  }
  if (topic.startsWith('v2/')) return onShortTopic(s, topic, payload, qos, packetId, now);
  if (topic.startsWith(GATEWAY_PREFIX)) {
    // MqttTransportHandler#processPublish: no gateway session handler → logged, no PUBACK
    if (!s.gateway) return void server.counters.notGateway++;
    if (GatewaySession.handles(topic)) return s.gateway.onPublish(topic, payload, qos, packetId, now);
  }
  if (topic.startsWith(RPC_RESPONSE)) {
    // JsonMqttAdaptor.convertToDeviceRpcResponse: the payload goes to the waiting REST call as is
    if (qos > 0) s.ack(packetId);
    server.rpc.response(d, topic.slice(RPC_RESPONSE.length), payload);
    return;
  }
  if (topic === CLAIM_TOPIC) return onClaimPublish(s, payload, qos, packetId, now);
  d.state.lastActivityTime = now;
  if (topic.startsWith(RPC_REQUEST)) s.toServerRpcTopics = V1;
  if (topic.startsWith(RPC_REQUEST) && isSessionLimits(payload)) {
    if (qos > 0) s.ack(packetId);
    return sendSessionLimits(s, topic.slice(RPC_REQUEST.length));
  }
  if (topic.startsWith(RPC_REQUEST) && server.clientRpcReply) {
    // JsonMqttAdaptor.convertToServerRpcRequest: a payload that is not a JSON object with "method" is an adaptor error
    if (!server.rpc.clientRequest(s, topic.slice(RPC_REQUEST.length), payload)) return s.invalidPayload(qos, packetId);
    if (qos > 0) s.ack(packetId);
    return;
  }
  const family = notImitated(topic);
  if (family) return refuseUnimplemented(s, family, qos, packetId);
  // unknown topic: acknowledged, connection stays (v5: 0x90)
  server.counters.unknownTopic++;
  if (qos > 0) s.ack(packetId, s.version === 5 ? RC5.TOPIC_NAME_INVALID : 0);
}

/** SUBSCRIBE: granted QoS ≤ 1; a new RPC subscription receives the requests waiting for it. */
export function onSubscribe(s: Session, pk: ISubscribePacket): void {
  const granted = pk.subscriptions.map((sub) => {
    if (sub.topic.startsWith('v2/')) return subscribeShort(s, sub.topic, sub.qos);
    if (!SUBSCRIBABLE.some((re) => re.test(sub.topic))) return s.version === 5 ? RC5.TOPIC_FILTER_INVALID : 0x80;
    if (sub.topic === ATTRIBUTES) [s.attributeUpdates, s.attrTopics] = [true, V1];
    if (sub.topic === RPC_REQUESTS) [s.rpcRequests, s.rpcTopics] = [true, V1];
    return Math.min(sub.qos, 1);
  });
  // registerSubQoS: every accepted filter (v1, v2, gateway) with its granted QoS, for the downlink's QoS
  pk.subscriptions.forEach((sub, k) => granted[k] < 0x80 && s.downlink.subscribed(sub.topic, granted[k]));
  s.send({ cmd: 'suback', messageId: pk.messageId, granted });
  if (s.rpcRequests) s.server.rpc.deliverPending(s.device!.id);
}

export function onUnsubscribe(s: Session, pk: IUnsubscribePacket): void {
  if (pk.unsubscriptions.includes(ATTRIBUTES)) s.attributeUpdates = false;
  if (pk.unsubscriptions.includes(RPC_REQUESTS)) s.rpcRequests = false;
  for (const filter of pk.unsubscriptions) {
    unsubscribeShort(s, filter);
    s.downlink.unsubscribed(filter);
  }
  s.send({ cmd: 'unsuback', messageId: pk.messageId, ...(s.version === 5 ? { reasonCode: 0 } : {}) } as Packet);
}

function isSessionLimits(payload: string): boolean {
  try {
    return (JSON.parse(payload) as { method?: unknown } | null)?.method === 'getSessionLimits';
  } catch {
    return false;
  }
}

/**
 * MqttTransportHandler#onGetSessionLimitsRpc (mqtt/limits/SessionLimits.java): the session's limits as the
 * reply to client-side RPC `getSessionLimits`; the emulator's transport limits stand for the tenant profile's.
 */
function sendSessionLimits(s: Session, requestId: string): void {
  const server = s.server;
  const specs = server.ingest.limiter.specs;
  const rateLimits = { messages: specs.device ?? null, telemetryMessages: null, telemetryDataPoints: specs.deviceDataPoints ?? null };
  const limits: Record<string, unknown> = { maxPayloadSize: server.maxPacketSize, maxInflightMessages: server.msgQueueLimit, rateLimits };
  if (s.gateway) limits.gatewayRateLimits = { messages: null, telemetryMessages: null, telemetryDataPoints: null };
  const payload = JSON.stringify(limits);
  s.downlink.publish(`${RPC_RESPONSE}${requestId}`, payload);
}
