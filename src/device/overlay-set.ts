// The overlays of one shard on its device sessions (./overlay.ts): one SUBSCRIBE with every
// overlay's topics after CONNACK, which rows are ready (SUBACK granted every topic), and the
// server's publishes handed to the overlay whose topic they are. It is the `DeviceLinks` the
// overlays write through.
import { encodePublish0, encodePuback, encodeSubscribe, readPublish } from './packets-down.js';
import type { MqttVersion } from './packets.js';
import type { DeviceLinks, SessionOverlay } from './overlay.js';

/** SUBSCRIBE's packet id: sent once right after CONNACK, before the first telemetry publish takes an id. */
export const SUBSCRIBE_ID = 65535;
const REQUEST = 'v1/devices/me/rpc/request/';
const RESPONSE = 'v1/devices/me/rpc/response/';

export class OverlaySet implements DeviceLinks {
  readonly overlays: SessionOverlay[] = [];
  private packet: Buffer | null = null;
  private readonly isReady: Uint8Array;
  /** Gateway child rows that are connected on a gateway subscribed to `v1/gateway/rpc`. */
  private readonly childUp: Uint8Array;
  /** SUBACKs with a refused topic (0x80 or an MQTT 5 reason ≥ 0x80). */
  refusedSubscriptions = 0;
  /** Server publishes on a topic no overlay claims. */
  strayPublishes = 0;

  private write: (i: number, packet: Buffer) => boolean = () => false;
  /** The gateway workload's writer of a child's RPC reply (`v1/gateway/rpc` on its gateway's connection). */
  private childReply: (i: number, id: number, body: string) => boolean = () => false;

  constructor(
    n: number,
    readonly version: MqttVersion,
  ) {
    this.isReady = new Uint8Array(n);
    this.childUp = new Uint8Array(n);
  }

  /** Some overlay serves gateway children: the gateways subscribe `v1/gateway/rpc` for it. */
  get servesChildren(): boolean {
    return this.overlays.some((o) => o.servesChildren === true);
  }

  /** Adds an overlay (built with this set as its links), before the first session connects. */
  add(o: SessionOverlay): void {
    this.overlays.push(o);
    this.packet = null;
  }

  /** One SUBSCRIBE with every overlay's topics, at QoS 0 (ThingsBoard pushes at the granted QoS). */
  get subscribePacket(): Buffer {
    this.packet ??= encodeSubscribe(SUBSCRIBE_ID, [...new Set(this.overlays.flatMap((o) => o.topics))], 0, this.version);
    return this.packet;
  }

  /** The workload that owns the sessions says how to write on row i's connection. */
  attach(write: (i: number, packet: Buffer) => boolean): void {
    this.write = write;
  }

  /** The gateway workload says how a child's RPC reply goes out. */
  attachGateway(reply: (i: number, id: number, body: string) => boolean): void {
    this.childReply = reply;
  }

  ready(i: number): boolean {
    return this.isReady[i] === 1;
  }

  childReady(i: number): boolean {
    return this.childUp[i] === 1;
  }

  rpcReply(i: number, id: string, body: string): boolean {
    if (this.childUp[i] === 1) return /^\d+$/.test(id) && this.childReply(i, Number(id), body);
    return this.send(i, encodePublish0(RESPONSE + id, body, this.version));
  }

  /** Gateway child row i (device `name`) is up on a gateway whose `v1/gateway/rpc` subscription was granted. */
  childJoined(i: number, name: string, at: number): void {
    if (this.childUp[i] === 1) return;
    this.childUp[i] = 1;
    for (const o of this.overlays) o.childJoined?.(i, name, at);
  }

  /** Gateway child row i left (or its gateway's connection ended). */
  childLeft(i: number): void {
    this.childUp[i] = 0;
  }

  /** A server-side RPC request for child row i through its gateway: `{"id","method","params"}` of `v1/gateway/rpc`. */
  childRequest(i: number, id: number, data: string, at: number): void {
    let claimed = false;
    for (const o of this.overlays) if (o.servesChildren && (claimed = o.message(i, REQUEST + id, data, at))) break;
    if (!claimed) this.strayPublishes++;
  }

  send(i: number, packet: Buffer): boolean {
    return this.isReady[i] === 1 && this.write(i, packet);
  }

  /** SUBACK body (`buf[start, start + len)`) for row i. */
  suback(i: number, buf: Buffer, start: number, len: number, at: number): void {
    let p = start + 2;
    if (this.version === '5') p += 1 + (buf[p] ?? 0); // property length (short form) + properties
    for (; p < start + len; p++) {
      if (buf[p] >= 0x80) {
        this.refusedSubscriptions++;
        return;
      }
    }
    this.isReady[i] = 1;
    for (const o of this.overlays) o.subscribed(i, at);
  }

  /** A PUBLISH from the server to row i; returns the PUBACK to write for QoS 1 (else null), or false when malformed. */
  publish(i: number, flags: number, buf: Buffer, start: number, len: number, at: number): Buffer | null | false {
    const pk = readPublish(flags, buf, start, len, this.version);
    if (!pk) return false;
    let claimed = false;
    for (const o of this.overlays) if ((claimed = o.message(i, pk.topic, pk.payload, at))) break;
    if (!claimed) this.strayPublishes++;
    return pk.packetId ? encodePuback(pk.packetId) : null;
  }

  down(i: number): void {
    this.isReady[i] = 0;
    for (const o of this.overlays) o.down(i);
  }

  setToken(token: string): void {
    for (const o of this.overlays) o.setToken(token);
  }

  stopCalls(): void {
    for (const o of this.overlays) o.stopCalls();
  }

  busy(): boolean {
    return this.overlays.some((o) => o.busy());
  }

  async close(): Promise<void> {
    await Promise.all(this.overlays.map((o) => o.close()));
  }
}
