// Overlay workloads (`rpc`, `attributes`) ride on the MQTT connections of the device rows: they do
// not own rows or connections, they add subscriptions to each session, read what the server pushes
// on them, publish small replies, and drive REST calls of their own from the shard. Each measures
// its round trips in its workload's meter (src/metrics/workload-meter.ts): the stats channel.
//
//   session ──subscribed(i) / message(i, topic, payload) / down(i)──▶ overlay
//   overlay ──────────────── links.send(i, packet) ───────────────────▶ session
//
// Host callbacks come from I/O events (socket reads, REST answers, timers), never from inside a
// Workload call, like the device seam (./workload.ts).
//
// Gateway children (rows of the `gateway` workload) have no session of their own: their gateway
// subscribes `v1/gateway/rpc` for them, tells the set which children joined or left
// (`childJoined`/`childLeft`), hands it each request for a child (`message` with the device topic
// `v1/devices/me/rpc/request/{id}`, the request's `data` as payload), and writes the child's reply
// in the gateway's form (`rpcReply`). Only the rpc overlay serves them (RPC_TARGETS).
import type { MqttVersion } from './packets.js';

/** The device connections as an overlay sees them. */
export interface DeviceLinks {
  readonly version: MqttVersion;
  /** Row i's session is up and its subscriptions were granted. */
  ready(i: number): boolean;
  /** Writes `packet` on row i's connection; false when it is not up. */
  send(i: number, packet: Buffer): boolean;
  /** Gateway child row i is connected and its gateway subscribed to `v1/gateway/rpc`. */
  childReady(i: number): boolean;
  /** Answers server-side RPC request `id` of row i with `body` (JSON): on the device topic, or through row i's gateway. */
  rpcReply(i: number, id: string, body: string): boolean;
}

export interface SessionOverlay {
  /** The workload's name in the report (`workloads.<name>`). */
  readonly name: string;
  /** Topic filters every device subscribes to once its session is up. */
  readonly topics: readonly string[];
  /** Row i's subscriptions were granted (SUBACK) at `at`. */
  subscribed(i: number, at: number): void;
  /** Row i's session ended. */
  down(i: number): void;
  /** Gateway child row i joined a gateway subscribed to the overlay's gateway topic (absent: the overlay serves no children). */
  childJoined?(i: number, name: string, at: number): void;
  /** Whether the overlay serves gateway children (the gateways subscribe `v1/gateway/rpc` for it). */
  readonly servesChildren?: boolean;
  /** The server published `topic` to row i at `at`; true when the topic is this overlay's. */
  message(i: number, topic: string, payload: string, at: number): boolean;
  /** The tenant's access token for the REST calls (pushed by the lab, refreshed before it expires). */
  setToken(token: string): void;
  /** Stop starting new calls (the run is stopping); calls under way go on. */
  stopCalls(): void;
  /** Calls under way (REST answers or device replies still awaited). */
  busy(): boolean;
  /** Ends timers and the REST pool; what is still under way stays counted as in flight. */
  close(): Promise<void>;
}
