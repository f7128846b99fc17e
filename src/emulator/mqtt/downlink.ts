// What the server writes down one MQTT session (shared-attribute updates, server-side RPC requests,
// attribute responses, client-side RPC replies, the gateway's publishes for its children), at the QoS
// ThingsBoard gives it: JsonMqttAdaptor#createMqttPublishMsg takes MqttDeviceAwareSessionContext#getQoSForTopic
// (the granted QoS of the first subscription in mqttQoSMap whose MqttTopicMatcher matches the topic, else
// AT_LEAST_ONCE) and ctx.nextMsgId(). MqttTransportHandler#registerSubQoS fills the map with every accepted
// filter at min(requested, 1); #processUnsubscribe removes the filter. A gateway's child sessions share the
// gateway's map and ids (AbstractGatewayDeviceSessionContext), so there is one of these per connection.
// The client's PUBACK only marks a persistent RPC DELIVERED in ThingsBoard (MqttTransportHandler, case PUBACK:
// rpcAwaitingAck); nothing is retransmitted, here neither: PUBACKs are counted (stats `downlink.pubacks`).
import type { Session } from './session.js';
import { protoAttributePush } from './short-topics.js';

export interface DownlinkCounters {
  /** Publishes written down sessions at QoS 0. */
  qos0: number;
  /** At QoS 1 (each with a packet id the client should acknowledge). */
  qos1: number;
  /** PUBACKs the clients sent for them. */
  pubacks: number;
}

export class Downlink {
  /** mqttQoSMap: filter → granted QoS and its MqttTopicMatcher (null when the filter has no wildcard). */
  private readonly granted = new Map<string, { qos: 0 | 1; re: RegExp | null }>();
  private msgId = 0;

  constructor(private readonly s: Session) {}

  /** registerSubQoS: an accepted filter with its granted QoS (a repeat replaces the QoS, keeps its place). */
  subscribed(filter: string, qos: number): void {
    this.granted.set(filter, { qos: qos >= 1 ? 1 : 0, re: matcher(filter) });
  }

  unsubscribed(filter: string): void {
    this.granted.delete(filter);
  }

  /** getQoSForTopic: Java's ConcurrentHashMap order is unspecified with overlapping filters; here the first subscribed wins. */
  qosFor(topic: string): 0 | 1 {
    for (const [filter, g] of this.granted) if (g.re ? g.re.test(topic) : filter === topic) return g.qos;
    return 1;
  }

  /** One packet id space per connection, 1..65535. */
  nextMsgId(): number {
    this.msgId = (this.msgId % 65535) + 1;
    return this.msgId;
  }

  /** onAttributeUpdate: on the family of the last attributes subscription, while there is one. */
  sharedAttributes(values: Record<string, unknown>): void {
    if (!this.s.attributeUpdates || this.s.closed) return;
    if (this.s.attrTopics.proto) return protoAttributePush(this.s);
    this.publish(this.s.attrTopics.attributes, JSON.stringify(values));
  }

  /** createMqttPublishMsg + write: QoS by the subscription, the session's next id (QoS 0 uses one too, unsent). */
  publish(topic: string, payload: string): void {
    const s = this.s;
    if (s.closed) return;
    const qos = this.qosFor(topic);
    s.server.counters.downlink[qos === 1 ? 'qos1' : 'qos0']++;
    s.send({ cmd: 'publish', topic, payload, qos, messageId: this.nextMsgId(), dup: false, retain: false });
  }
}

/** MqttTopicMatcher: `+` → `[^/]+`, `#` → `.+`, matched against the whole topic. */
function matcher(filter: string): RegExp | null {
  if (!filter.includes('+') && !filter.includes('#')) return null;
  const escaped = filter.replace(/[.*?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\+/g, '[^/]+').replace(/#/g, '.+')}$`);
}
