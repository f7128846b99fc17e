// Provisioning-only MQTT sessions, as MqttTransportHandler.processConnect and processProvisionSessionMsg run
// them: user name or client id `provision` → CONNACK 0 with no credential check; only `/provision/request`
// is published (answered on `/provision/response`), only `/provision/response` subscribed; the connection is
// closed 60 s after each answer (DeviceProvisionCallback schedules ctx.close).
import type { IConnectPacket, IPublishPacket, ISubscribePacket, IUnsubscribePacket, Packet } from 'mqtt-packet';
import { connack, RC5 } from './packets.js';
import type { Session } from './session.js';
import { parseProvisionRequest, PROVISION_USERNAME, ProvisionRequestError } from '../provision.js';

const REQUEST = '/provision/request';
const RESPONSE = '/provision/response';
/** DeviceProvisionCallback.onSuccess: scheduler.schedule(ctx::close, 60, SECONDS). */
const CLOSE_AFTER_ANSWER_MS = 60000;

interface ProvisionState {
  /** Granted QoS of the `/provision/response` subscription; null = none (the answer goes out at QoS 1 anyway). */
  responseQos: number | null;
  nextMessageId: number;
}

const states = new WeakMap<Session, ProvisionState>();

export function isProvisionConnect(pk: IConnectPacket): boolean {
  return pk.username === PROVISION_USERNAME || pk.clientId === PROVISION_USERNAME;
}

/** CONNACK accepted at once (sessionPresent = !cleanSession, as on every CONNACK); the session stays device-less. */
export function acceptProvision(s: Session, pk: IConnectPacket): void {
  s.socket.write(connack(s.version, pk.clean === false, 0));
  states.set(s, { responseQos: null, nextMessageId: 1 });
  s.server.store.provisioning.counters.sessions++;
}

/** Every packet after CONNECT of a provisioning session. */
export function onProvisionPacket(s: Session, pk: Packet): void {
  const st = states.get(s)!;
  switch (pk.cmd) {
    case 'publish':
      return onPublish(s, st, pk);
    case 'subscribe':
      return onSubscribe(s, st, pk);
    case 'unsubscribe':
      return onUnsubscribe(s, st, pk);
    case 'pingreq':
      return s.send({ cmd: 'pingresp' });
    case 'disconnect':
      return s.close('client-disconnect');
    default:
      return; // PUBACK of our answer, or a packet ThingsBoard's provision switch ignores too
  }
}

function onPublish(s: Session, st: ProvisionState, pk: IPublishPacket): void {
  const id = pk.qos > 0 ? (pk.messageId ?? 0) : 0;
  if (pk.topic !== REQUEST) {
    // "Unsupported topic for provisioning requests": PUBACK 0x90 and the session is closed
    if (id) s.ack(id, s.version === 5 ? RC5.TOPIC_NAME_INVALID : 0);
    return s.close('provision-topic');
  }
  const payload = pk.payload.toString();
  let answer: Record<string, unknown>;
  try {
    // JsonMqttAdaptor.validatePayload: an empty payload is an adaptor error
    if (payload === '') throw new ProvisionRequestError('empty payload', true);
    answer = s.server.store.provisioning.provision(parseProvisionRequest(payload));
  } catch (e) {
    if (!(e instanceof ProvisionRequestError)) throw e;
    if (e.adaptor) return s.invalidPayload(pk.qos, id);
    // a missing provision key or secret, a bad field: RuntimeException → PUBACK 0x83 and the session is closed
    if (id) s.ack(id, s.version === 5 ? RC5.IMPLEMENTATION_SPECIFIC : 0);
    return s.close('provision-error');
  }
  if (id) s.ack(id);
  const qos = (st.responseQos ?? 1) as 0 | 1;
  const messageId = qos > 0 ? st.nextMessageId++ : undefined;
  if (st.nextMessageId > 0xffff) st.nextMessageId = 1;
  s.send({ cmd: 'publish', topic: RESPONSE, payload: JSON.stringify(answer), qos, messageId, dup: false, retain: false });
  setTimeout(() => s.close('provision-done'), CLOSE_AFTER_ANSWER_MS).unref();
}

function onSubscribe(s: Session, st: ProvisionState, pk: ISubscribePacket): void {
  const granted = pk.subscriptions.map((sub) => {
    if (sub.topic !== RESPONSE) return s.version === 5 ? RC5.TOPIC_FILTER_INVALID : 0x80;
    st.responseQos = Math.min(sub.qos, 1);
    return st.responseQos;
  });
  s.send({ cmd: 'suback', messageId: pk.messageId, granted });
}

function onUnsubscribe(s: Session, st: ProvisionState, pk: IUnsubscribePacket): void {
  // processUnsubscribe: SUCCESS for a held subscription, NO_SUBSCRIPTION_EXISTED (0x11) otherwise (v5 codes only)
  const codes = pk.unsubscriptions.map((t) => (t === RESPONSE && st.responseQos !== null ? 0 : 0x11));
  if (pk.unsubscriptions.includes(RESPONSE)) st.responseQos = null;
  const reasons = s.version === 5 ? { reasonCodes: codes } : {};
  s.send({ cmd: 'unsuback', messageId: pk.messageId, ...reasons } as Packet);
}
