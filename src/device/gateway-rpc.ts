// Server-side RPC to the gateway workload's children (RPC_TARGETS children/all), gateway side:
// ThingsBoard writes a child's request on its gateway's connection as `v1/gateway/rpc`
// {"device":name,"data":{"id","method","params"}} (AbstractGatewayDeviceSessionContext
// #onToDeviceRpcRequest, JsonConverter.toGatewayJson) and takes the gateway's reply on the same
// topic, {"device":name,"id":n,"data":{…}} (AbstractGatewaySessionHandler#onDeviceRpcResponseJson).
// Each gateway subscribes `v1/gateway/rpc` once it is up; a child is callable while it is joined on
// a gateway whose subscription was granted. The requests and replies themselves are the rpc
// overlay's (./rpc-overlay.ts through ./overlay-set.ts): this class only translates.
import type { GatewayLink } from './gateway-link.js';
import type { OverlaySet } from './overlay-set.js';
import { encodePublish0, encodeSubscribe } from './packets-down.js';
import type { MqttVersion } from './packets.js';

export const GATEWAY_RPC_TOPIC = 'v1/gateway/rpc';
/** The gateway's only SUBSCRIBE, right after CONNACK, while none of its publishes is in flight. */
const SUBSCRIBE_ID = 65535;

export class GatewayRpc {
  /** SUBSCRIBE `v1/gateway/rpc` at QoS 0 (ThingsBoard publishes at the granted QoS). */
  readonly subscribePacket: Buffer;

  constructor(
    private readonly overlays: OverlaySet,
    private readonly links: readonly GatewayLink[],
    private readonly linkOf: Int32Array,
    /** Child row i is joined on its gateway (its connect acknowledged). */
    private readonly isJoined: (i: number) => boolean,
    private readonly names: readonly { name: string }[],
    private readonly byName: ReadonlyMap<string, number>,
    private readonly version: MqttVersion,
    private readonly publishes: { publishes: number },
    private readonly now: () => number,
  ) {
    this.subscribePacket = encodeSubscribe(SUBSCRIBE_ID, [GATEWAY_RPC_TOPIC], 0, version);
    overlays.attachGateway((i, id, body) => this.reply(i, id, body));
  }

  /** The gateway's SUBACK: granted → its joined children become callable. */
  subscribed(link: GatewayLink, granted: boolean, at: number): void {
    link.rpcUp = granted;
    if (!granted) {
      this.overlays.refusedSubscriptions++;
      return;
    }
    for (const i of link.rows) if (this.isJoined(i)) this.overlays.childJoined(i, this.names[i].name, at);
  }

  /** Child row i's connect was acknowledged. */
  joined(link: GatewayLink, i: number, at: number): void {
    if (link.rpcUp) this.overlays.childJoined(i, this.names[i].name, at);
  }

  /** Child row i left its gateway (or the gateway's connection ended). */
  left(i: number): void {
    this.overlays.childLeft(i);
  }

  /** A `v1/gateway/rpc` PUBLISH on gateway g: the request goes to the rpc overlay as child row i's. */
  request(g: number, payload: string, at: number): void {
    let body: { device?: unknown; data?: { id?: unknown } };
    try {
      body = JSON.parse(payload) as typeof body;
    } catch {
      this.overlays.strayPublishes++;
      return;
    }
    const i = typeof body?.device === 'string' ? this.byName.get(body.device) : undefined;
    const id = body?.data?.id;
    if (i === undefined || this.linkOf[i] !== g || typeof id !== 'number') {
      this.overlays.strayPublishes++;
      return;
    }
    this.overlays.childRequest(i, id, JSON.stringify(body.data), at);
  }

  /** The child's reply through its gateway: `{"device","id","data"}` at QoS 0, as the devices answer. */
  private reply(i: number, id: number, body: string): boolean {
    const link = this.links[this.linkOf[i]];
    if (!link || !link.rpcUp || !this.isJoined(i)) return false;
    const payload = `{"device":${JSON.stringify(this.names[i].name)},"id":${id},"data":${body}}`;
    this.publishes.publishes++;
    return link.session.send(encodePublish0(GATEWAY_RPC_TOPIC, payload, this.version), this.now());
  }
}
