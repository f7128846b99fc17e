// QoS 1 in-flight windows, one per device, in shared typed arrays: packet id and send time of
// every unacknowledged PUBLISH, oldest first. Servers acknowledge in order (MQTT 3.1.1 §4.6),
// so an ack almost always matches the head; any other position is found by a short scan.

/** Unacknowledged QoS 1 messages one device may have; more are skipped (ThingsBoard's own limit is 100). */
export const INFLIGHT_WINDOW = 64;

export class InflightWindows {
  private readonly id: Uint16Array;
  private readonly time: Float64Array;
  private readonly head: Uint16Array;
  private readonly size: Uint16Array;

  /** @param enabled false at QoS 0: no window memory (0.6 KB per device) */
  constructor(devices: number, enabled: boolean) {
    const w = enabled ? devices * INFLIGHT_WINDOW : 0;
    this.id = new Uint16Array(w);
    this.time = new Float64Array(w);
    this.head = new Uint16Array(devices);
    this.size = new Uint16Array(devices);
  }

  count(i: number): number {
    return this.size[i];
  }

  full(i: number): boolean {
    return this.size[i] >= INFLIGHT_WINDOW;
  }

  push(i: number, packetId: number, sentAt: number): void {
    const w = i * INFLIGHT_WINDOW + ((this.head[i] + this.size[i]) % INFLIGHT_WINDOW);
    this.id[w] = packetId;
    this.time[w] = sentAt;
    this.size[i]++;
  }

  /** Removes the message with `packetId`; returns its send time, or -1 when it is not in flight. */
  take(i: number, packetId: number): number {
    const b = i * INFLIGHT_WINDOW;
    const head = this.head[i];
    const count = this.size[i];
    let k = 0;
    while (k < count && this.id[b + ((head + k) % INFLIGHT_WINDOW)] !== packetId) k++;
    if (k === count) return -1;
    const sentAt = this.time[b + ((head + k) % INFLIGHT_WINDOW)];
    // shift the older entries up by one over the removed one
    for (let j = k; j > 0; j--) {
      const to = b + ((head + j) % INFLIGHT_WINDOW);
      const from = b + ((head + j - 1) % INFLIGHT_WINDOW);
      this.id[to] = this.id[from];
      this.time[to] = this.time[from];
    }
    this.head[i] = (head + 1) % INFLIGHT_WINDOW;
    this.size[i] = count - 1;
    return sentAt;
  }

  /** Drops the messages sent before `before` (ms); returns how many. */
  expire(i: number, before: number): number {
    const b = i * INFLIGHT_WINDOW;
    let n = 0;
    while (this.size[i] > 0 && this.time[b + this.head[i]] < before) {
      this.head[i] = (this.head[i] + 1) % INFLIGHT_WINDOW;
      this.size[i]--;
      n++;
    }
    return n;
  }

  /** Forgets every message of device `i` (its connection is gone); returns how many. */
  clear(i: number): number {
    const n = this.size[i];
    this.size[i] = 0;
    return n;
  }

  total(): number {
    let t = 0;
    for (let i = 0; i < this.size.length; i++) t += this.size[i];
    return t;
  }
}
