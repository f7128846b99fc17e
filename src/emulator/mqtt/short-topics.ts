// ThingsBoard's `v2/*` short device topics (common/data/.../device/profile/MqttTopics.java), routed as
// common/transport/mqtt/.../MqttTransportHandler.java#processDevicePublish and #processSubscribe do.
// Every emulator device has a JSON (default) profile, so the plain and the `/j` topics behave alike, and the
// `/p` (protobuf) topics get ThingsBoard's answer for a JSON profile where it has one; the rest is counted.
import { parseTelemetry, PayloadError, type TelemetryRow } from '../payload.js';
import { RC5 } from './packets.js';
import type { Session } from './session.js';
import { answerAttributeRequest, postAttributes } from './attributes.js';
import { countUnimplemented, refuseUnimplemented } from './unimplemented.js';

/**
 * TopicType.java: the topic family a session's answers go out on. A session remembers one per kind
 * (MqttTransportHandler.attrSubTopicType, rpcSubTopicType, toServerRpcSubTopicType): the last one it used.
 */
export interface TopicType {
  readonly attributesResponse: string;
  readonly attributes: string;
  readonly rpcRequest: string;
  readonly rpcResponse: string;
  /** ProtoMqttAdaptor (V2_PROTO): needs the descriptors of a PROTOBUF device profile. */
  readonly proto: boolean;
}
const topicType = (attributesResponse: string, attributes: string, rpcRequest: string, rpcResponse: string, proto = false) =>
  ({ attributesResponse, attributes, rpcRequest, rpcResponse, proto }) as const;
export const V1: TopicType = topicType(
  'v1/devices/me/attributes/response/',
  'v1/devices/me/attributes',
  'v1/devices/me/rpc/request/',
  'v1/devices/me/rpc/response/',
);
const V2 = topicType('v2/a/res/', 'v2/a', 'v2/r/req/', 'v2/r/res/');
const V2_JSON = topicType('v2/a/res/j/', 'v2/a/j', 'v2/r/req/j/', 'v2/r/res/j/');
const V2_PROTO = topicType('v2/a/res/p/', 'v2/a/p', 'v2/r/req/p/', 'v2/r/res/p/', true);

/** processSubscribe: the v2 filters it accepts (exact strings) and the topic type an attribute or RPC subscription sets. */
const SUBSCRIPTIONS = new Map<string, ['attributes' | 'rpc', TopicType] | null>([
  ['v2/a', ['attributes', V2]],
  ['v2/a/j', ['attributes', V2_JSON]],
  ['v2/a/p', ['attributes', V2_PROTO]],
  ['v2/r/req/+', ['rpc', V2]],
  ['v2/r/req/j/+', ['rpc', V2_JSON]],
  ['v2/r/req/p/+', ['rpc', V2_PROTO]],
  ...['v2/r/res/+', 'v2/r/res/j/+', 'v2/r/res/p/+', 'v2/a/res/+', 'v2/a/res/j/+', 'v2/a/res/p/+'].map((f) => [f, null] as const),
  ...['v2/fw/response/+/chunk/+', 'v2/fw/error', 'v2/sw/response/+/chunk/+', 'v2/sw/error'].map((f) => [f, null] as const),
]);

/** SUBSCRIBE to a `v2/…` filter: the granted QoS (≤ 1), or the failure code for a filter ThingsBoard does not accept. */
export function subscribeShort(s: Session, filter: string, qos: number): number {
  const entry = SUBSCRIPTIONS.get(filter);
  if (entry === undefined) return s.version === 5 ? RC5.TOPIC_FILTER_INVALID : 0x80;
  if (entry?.[0] === 'attributes') [s.attributeUpdates, s.attrTopics] = [true, entry[1]];
  if (entry?.[0] === 'rpc') [s.rpcRequests, s.rpcTopics] = [true, entry[1]];
  return Math.min(qos, 1);
}

/** processUnsubscribe: any attributes (RPC request) filter, v1 or v2, ends the attribute (RPC) subscription. */
export function unsubscribeShort(s: Session, filter: string): void {
  const entry = SUBSCRIPTIONS.get(filter);
  if (entry?.[0] === 'attributes') s.attributeUpdates = false;
  if (entry?.[0] === 'rpc') s.rpcRequests = false;
}

/** The JSON families, `/j` first as processDevicePublish tests them (module constants: nothing allocated per publish). */
const JSON_TYPES = [V2_JSON, V2];
const ATTRIBUTE_REQUESTS = [
  ['v2/a/req/j/', V2_JSON],
  ['v2/a/req/', V2],
] as const;

/** A PUBLISH on a `v2/…` topic (after the v1 fast path), routed as processDevicePublish does (its tests are disjoint). */
export function onShortTopic(s: Session, topic: string, payload: string, qos: number, packetId: number, now: number): void {
  if (topic === 'v2/t' || topic === 'v2/t/j') return postTelemetry(s, payload, qos, packetId, now);
  if (topic === 'v2/a' || topic === 'v2/a/j') return postAttributes(s, payload, qos, packetId, now);
  if (OTA_REQUEST.test(topic)) return otaRequest(s, payload);
  // ProtoMqttAdaptor → ProtoConverter.validateDescriptor: no descriptor on a JSON profile → AdaptorException
  if (topic === 'v2/t/p' || topic === 'v2/a/p' || topic.startsWith('v2/r/res/p/')) return s.invalidPayload(qos, packetId);
  for (const type of JSON_TYPES) {
    if (topic.startsWith(type.rpcResponse)) return rpcResponse(s, topic.slice(type.rpcResponse.length), payload, qos, packetId);
  }
  if (topic.startsWith('v2/r/req/p/')) return refuseUnimplemented(s, 'v2/r/req/p (protobuf client-side RPC)', qos, packetId);
  for (const type of JSON_TYPES) {
    if (topic.startsWith(type.rpcRequest)) return clientRpc(s, type, topic.slice(type.rpcRequest.length), payload, qos, packetId);
  }
  if (topic.startsWith('v2/a/req/p/')) return refuseUnimplemented(s, 'v2/a/req/p (protobuf attribute request)', qos, packetId);
  for (const [prefix, type] of ATTRIBUTE_REQUESTS) {
    if (!topic.startsWith(prefix)) continue;
    // JsonMqttAdaptor.processGetAttributeRequestMsg: the id is parsed inside its try → AdaptorException
    if (!isRequestId(topic.slice(prefix.length))) return s.invalidPayload(qos, packetId);
    if (qos > 0) s.ack(packetId);
    return answerAttributeRequest(s, type.attributesResponse, topic.slice(prefix.length), payload);
  }
  // the default branch: an unknown topic
  s.device!.state.lastActivityTime = now;
  s.server.counters.unknownTopic++;
  if (qos > 0) s.ack(packetId, s.version === 5 ? RC5.TOPIC_NAME_INVALID : 0);
}

/** Stored exactly as `v1/devices/me/telemetry` (session.ts's fast path): same admission, rate limits, capacity. */
function postTelemetry(s: Session, payload: string, qos: number, packetId: number, now: number): void {
  const d = s.device!;
  const ingest = s.server.ingest;
  let rows: TelemetryRow[];
  try {
    rows = parseTelemetry(payload, now);
  } catch (e) {
    if (e instanceof PayloadError) return s.invalidPayload(qos, packetId);
    throw e;
  }
  if (!ingest.admit(d, rows, now, 'mqtt')) return s.close('rate-limited');
  if (ingest.capacity.on) return ingest.capacity.offer(s, qos > 0 ? packetId : 0, d, rows, now);
  if (qos > 0) s.ack(packetId);
  ingest.telemetry(d, rows, now);
}

/** JsonMqttAdaptor.processToDeviceRpcResponseMsg: the request id is parsed inside its try → AdaptorException. */
function rpcResponse(s: Session, id: string, payload: string, qos: number, packetId: number): void {
  if (!isRequestId(id)) return s.invalidPayload(qos, packetId);
  if (qos > 0) s.ack(packetId);
  s.server.rpc.response(s.device!, id, payload);
}

/**
 * Client-side RPC: toServerRpcSubTopicType is set and the request goes to the rule engine (here: the
 * clientRpcReply rule), whose answer goes out on that type's response topic. Unlike v1, `getSessionLimits`
 * is not answered by the transport on v2 (only the v1 branch calls onGetSessionLimitsRpc).
 */
function clientRpc(s: Session, type: TopicType, id: string, payload: string, qos: number, packetId: number): void {
  // processToServerRpcRequestMsg parses the id outside its catch: NumberFormatException → exceptionCaught → closed
  if (!isRequestId(id)) return s.close('transport-error');
  s.toServerRpcTopics = type;
  if (!s.server.clientRpcReply) return refuseUnimplemented(s, `${type.rpcRequest.slice(0, -1)} (client-side RPC)`, qos, packetId);
  if (!s.server.rpc.clientRequest(s, id, payload)) return s.invalidPayload(qos, packetId);
  if (qos > 0) s.ack(packetId);
}

const OTA_REQUEST = /v2\/(fw|sw)\/request\/\d+\/chunk\/\d+/;

/**
 * getOtaPackageCallback: the emulator's devices and profiles never have an OTA package, so
 * DefaultTransportApiService answers NOT_FOUND and sendOtaPackageError publishes the status on `v2/fw/error`
 * (for software too), without a PUBACK, and closes the session (v5 DISCONNECT 0x83). A chunk size over the
 * payload limit is refused first (PAYLOAD_TOO_LARGE).
 */
function otaRequest(s: Session, payload: string): void {
  // Integer.parseInt of a payload that is not a number: NumberFormatException → exceptionCaught → closed
  if (payload !== '' && !/^[+-]?\d+$/.test(payload)) return s.close('transport-error');
  const chunkSize = payload === '' ? 0 : Number(payload);
  const error = chunkSize > s.server.maxPacketSize ? 'PAYLOAD_TOO_LARGE' : 'NOT_FOUND';
  s.downlink.publish('v2/fw/error', error); // at the `v2/fw/error` subscription's QoS, else 1
  s.close('ota-error');
}

/** Integer.parseInt succeeds (signed ids, which ThingsBoard parses too, are left out: no client sends them). */
function isRequestId(id: string): boolean {
  return /^\d{1,10}$/.test(id) && Number(id) <= 2147483647;
}

/** onAttributeUpdate on a V2_PROTO subscription: ProtoMqttAdaptor would push protobuf bytes; not imitated, counted. */
export function protoAttributePush(s: Session): void {
  countUnimplemented(s, 'v2/a/p (protobuf attribute push)');
}

/**
 * onToDeviceRpcRequest on a V2_PROTO subscription: ProtoMqttAdaptor finds no rpcRequestDynamicMessageBuilder on a
 * JSON profile, and sendErrorRpcResponse answers the call with SparkplugRpcResponseBody (null fields left out).
 */
export function protoRpcRequestError(method: string, params: unknown): string {
  const error = `Failed to convert device RPC command to MQTT msg: ${method}${JSON.stringify(params ?? null)}`;
  return JSON.stringify({ result: 'INVALID_ARGUMENTS', error });
}
