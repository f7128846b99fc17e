// One timer wheel per shard instead of a Node timer per device: one interval callback walks a
// slot of integer ids, with no timer object per device, and the lag stays bounded by the tick
// however many devices are due. Items are integer ids in intrusive singly linked lists per slot
// (Int32Arrays); an item far in the future simply waits a few rotations. An item fires at most
// once per `advance` call, so a late caller's work per call stays bounded (no catch-up spiral,
// bench/README.md Finding 1).

export class TimerWheel {
  /** Intended fire time per item, ms (same clock as `advance`'s `now`). */
  readonly due: Float64Array;
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly slots: number;
  /** Last tick number whose whole time range has been processed. */
  private done: number;
  /** Ticks up to this one are closed to new items: `done`, or during `advance` the last tick it processes. */
  private closed: number;

  /**
   * @param capacity number of items (ids 0..capacity-1)
   * @param tickMs slot width, ms (default 5)
   * @param slots slots per rotation (default 2048 ≈ 10 s at 5 ms)
   * @param now current time, ms
   */
  constructor(
    capacity: number,
    readonly tickMs = 5,
    slots = 2048,
    now = 0,
  ) {
    this.due = new Float64Array(capacity);
    this.next = new Int32Array(capacity).fill(-1);
    this.slots = slots;
    this.head = new Int32Array(slots).fill(-1);
    this.done = this.closed = Math.floor(now / tickMs) - 1;
  }

  /**
   * Schedules `item` (not currently scheduled) to fire at `at`; a time already past fires on the
   * next advance (when called from `fire`: the next `advance` call, not the running one).
   */
  schedule(item: number, at: number): void {
    this.due[item] = at;
    let t = Math.floor(at / this.tickMs);
    if (t <= this.closed) t = this.closed + 1;
    const s = t % this.slots;
    this.next[item] = this.head[s];
    this.head[s] = item;
  }

  /**
   * Processes every tick whose time range ended by `now` and calls `fire(item, due)` for each item
   * due before the end of its tick. A fired item is no longer scheduled: `fire` re-schedules it,
   * and a time it gives that this call would reach waits for the next call, so each item fires at
   * most once per call however late the caller is; the caller accounts the slots it missed.
   */
  advance(now: number, fire: (item: number, due: number) => void): void {
    const last = Math.floor(now / this.tickMs) - 1;
    if (last > this.closed) this.closed = last;
    while (this.done < last) {
      const t = ++this.done;
      const s = t % this.slots;
      let item = this.head[s];
      this.head[s] = -1;
      const end = (t + 1) * this.tickMs;
      while (item !== -1) {
        const nxt = this.next[item];
        const due = this.due[item];
        if (due < end) fire(item, due);
        else {
          this.next[item] = this.head[s];
          this.head[s] = item;
        }
        item = nxt;
      }
    }
  }
}
