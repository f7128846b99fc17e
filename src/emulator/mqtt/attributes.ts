// Client attributes and attribute requests of the device API, on v1 and v2 topics alike
// (MqttTransportHandler#processDevicePublish → JsonMqttAdaptor convertToPostAttributes / convertToGetAttributes).
import { parseAttributes, PayloadError } from '../payload.js';
import type { Session } from './session.js';

/** Client attributes, as posted on `v1/devices/me/attributes` (and `v2/a`, `v2/a/j`). */
export function postAttributes(s: Session, payload: string, qos: number, packetId: number, now: number): void {
  let values: Record<string, unknown>;
  try {
    values = parseAttributes(payload);
  } catch (e) {
    if (e instanceof PayloadError) return s.invalidPayload(qos, packetId);
    throw e;
  }
  if (!s.server.ingest.admit(s.device!, null, now, 'mqtt')) return s.close('rate-limited');
  if (qos > 0) s.ack(packetId);
  s.server.store.saveAttributes(s.device!, 'CLIENT_SCOPE', values, now);
}

/** Answers an attribute request on `responseBase` + id (onGetAttributesResponse: the session's attrReqTopicType). */
export function answerAttributeRequest(s: Session, responseBase: string, requestId: string, payload: string): void {
  // JsonMqttAdaptor.processGetAttributeRequestMsg: the payload must be a JSON object; each key list is a
  // comma-separated string (toStringSet: getAsString().split(",")); anything else is an adaptor error
  let clientKeys: string[] | null;
  let sharedKeys: string[] | null;
  try {
    const req = JSON.parse(payload) as Record<string, unknown>;
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new Error('not an object');
    const list = (v: unknown) => {
      if (v === undefined) return null;
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new Error('not a string');
      return String(v).split(',');
    };
    clientKeys = list(req.clientKeys);
    sharedKeys = list(req.sharedKeys);
  } catch {
    return s.close('invalid-payload');
  }
  // at the QoS of a matching `…/attributes/response/+` subscription, else 1 (./downlink.ts)
  s.downlink.publish(`${responseBase}${requestId}`, JSON.stringify(s.server.store.attributeRequest(s.device!, clientKeys, sharedKeys)));
}
