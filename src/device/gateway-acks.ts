// What one gateway connection waits to hear back about: each QoS 1 PUBLISH it wrote (a telemetry
// batch, a child's connect or disconnect, an attributes batch) by packet id, with the child rows
// and their own ack ids it carries, so one PUBACK becomes the acks of its children. ThingsBoard
// answers a gateway publish once, after every child's part was processed
// (AbstractGatewaySessionHandler#getAggregatePubAckCallback); older versions answered once per
// child with the same packet id, so a second PUBACK for an id no longer pending is ignored.
//
// Records are pooled per workload and their arrays grow only when a batch is larger than any
// before: at a steady state a batch costs a Map set and delete, no allocation.

export const PubKind = { TELEMETRY: 0, CONNECT: 1, DISCONNECT: 2, ATTRIBUTES: 3 } as const;
export type PubKind = (typeof PubKind)[keyof typeof PubKind];

export class PendingPub {
  kind: PubKind = PubKind.TELEMETRY;
  /** Engine clock when written, ms. */
  sentAt = 0;
  n = 0;
  rows = new Int32Array(8);
  /** The child messages' own ack ids (telemetry); unused for the other kinds. */
  ids = new Int32Array(8);

  add(row: number, id: number): void {
    if (this.n === this.rows.length) {
      const rows = new Int32Array(this.n * 2);
      rows.set(this.rows);
      const ids = new Int32Array(this.n * 2);
      ids.set(this.ids);
      this.rows = rows;
      this.ids = ids;
    }
    this.rows[this.n] = row;
    this.ids[this.n++] = id;
  }
}

/** A free list of PendingPub records, shared by the gateways of one workload. */
export class PendingPool {
  private readonly free: PendingPub[] = [];

  get(kind: PubKind): PendingPub {
    const p = this.free.pop() ?? new PendingPub();
    p.kind = kind;
    p.n = 0;
    p.sentAt = 0;
    return p;
  }

  put(p: PendingPub): void {
    this.free.push(p);
  }
}

/** One gateway connection's publishes awaiting their PUBACK, by packet id (1..65535). */
export class PendingAcks {
  private readonly byId = new Map<number, PendingPub>();
  private next = 1;

  constructor(private readonly pool: PendingPool) {}

  get size(): number {
    return this.byId.size;
  }

  /** The next free packet id (one still awaiting its PUBACK is skipped). */
  nextId(): number {
    for (;;) {
      const id = this.next;
      this.next = id === 65535 ? 1 : id + 1;
      if (!this.byId.has(id)) return id;
    }
  }

  track(id: number, p: PendingPub): void {
    this.byId.set(id, p);
  }

  /** The publish `id` answered (removed from the table; the caller returns it to the pool); undefined when not pending. */
  take(id: number): PendingPub | undefined {
    const p = this.byId.get(id);
    if (p) this.byId.delete(id);
    return p;
  }

  /** Everything still pending, removed (the connection is gone). */
  drain(each: (p: PendingPub) => void): void {
    for (const p of this.byId.values()) {
      each(p);
      this.pool.put(p);
    }
    this.byId.clear();
    this.next = 1;
  }
}
