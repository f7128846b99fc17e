// What a shard counts, apart from the state machine's states: shard-wide counters (C) and one
// row of per-device fields (D) in typed arrays, the interval's latency histograms, counts by
// outcome / cause / class / error kind, lifecycle events and disconnect records. The state
// machine (shard-state.ts) and the publisher decide; this records. `take` hands over one
// snapshot's share and starts the next interval.
import { ERROR_KINDS, type Cause, type ErrorKind } from '../device/causes.js';
import { createHistogram, encodeHistogram, recordMs, type Histogram } from '../metrics/hdr.js';
import type { CauseClass } from '../metrics/snapshot.js';
import { C, C_FIELDS, D, D_FIELDS } from './counters.js';
import type { DisconnectEvent, ShardEvent, ShardSnapshot } from './protocol.js';
import { STATE, TRAFFIC } from './states.js';
import { EndpointTallies } from './endpoint-tallies.js';

const MAX_DISCONNECT_RECORDS_PER_SNAPSHOT = 5000;
const ERR_INDEX = Object.fromEntries(ERROR_KINDS.map((k, n) => [k, D.ERR0 + n])) as Record<ErrorKind, number>;
const ms3 = (x: number) => Math.round(x * 1000) / 1000;

export type SnapshotTallies = Pick<ShardSnapshot, 'byOutcome' | 'byCause' | 'byClass' | 'errorsByKind' | 'hist' | 'disconnects' | 'events'>;

export class Tallies {
  readonly c = new Float64Array(C_FIELDS);
  /** layout D, row-major */
  readonly dev: Float64Array;
  /** TRAFFIC | STATE bits: the device's row changed since it was last shipped */
  readonly dirty: Uint8Array;
  readonly ackHist: Histogram = createHistogram();
  readonly connectHist: Histogram = createHistogram();
  readonly lagHist: Histogram = createHistogram();
  /** Cumulative. */
  private readonly byOutcome: Record<string, number> = {};
  private readonly byCause: Record<string, number> = {};
  private readonly byClass: Partial<Record<CauseClass, number>> = {};
  private readonly errorsByKind: Record<string, number> = {};
  /** Messages the server refused, by row kind number and cause text (cumulative): the fleet workloads' byCause. */
  readonly refusedByKind: Array<Record<string, number>> = [];
  /** Several row kinds: each row's kind and each kind's ack histogram (null: one kind, ackHist is its). */
  private kindOf: Uint8Array | null = null;
  private kindAck: Histogram[] | null = null;
  /** This interval only. */
  private events: ShardEvent[] = [];
  private disconnects: DisconnectEvent[] = [];
  /** The same connects and disconnects, per MQTT endpoint. */
  readonly endpoints: EndpointTallies;

  /** @param endpoints MQTT endpoints the devices are spread over (device → endpoint by fleet index) */
  constructor(
    n: number,
    private readonly names: readonly { name: string; index: number }[],
    endpoints = 1,
  ) {
    this.dev = new Float64Array(n * D_FIELDS);
    this.dirty = new Uint8Array(n);
    this.endpoints = new EndpointTallies(names, endpoints);
  }

  /** Lifecycle and error events are all kept (at most a few per device per second); publishes are sampled by the caller. */
  event(e: ShardEvent): void {
    this.events.push(e);
  }

  skipped(i: number, slots: number): void {
    this.c[C.SKIPPED] += slots;
    this.dev[i * D_FIELDS + D.SKIPPED] += slots;
    this.dirty[i] |= TRAFFIC;
  }

  /** Also records acks per row kind into `hists[kind[i]]` (the owner resets them). */
  latencyByKind(kind: Uint8Array, hists: Histogram[]): void {
    this.kindOf = kind;
    this.kindAck = hists;
  }

  acked(i: number, ms: number): void {
    this.c[C.ACKED]++;
    this.dev[i * D_FIELDS + D.ACKED]++;
    this.dirty[i] |= TRAFFIC;
    recordMs(this.ackHist, ms);
    if (this.kindAck !== null) recordMs(this.kindAck[this.kindOf![i]], ms);
  }

  /** Row i's message was refused with `cause` (failed: the caller counts it). */
  refused(i: number, cause: string): void {
    const k = this.kindOf === null ? 0 : this.kindOf[i];
    const by = (this.refusedByKind[k] ??= {});
    by[cause] = (by[cause] ?? 0) + 1;
  }

  failPublishes(i: number, count: number, kind: ErrorKind): void {
    this.c[C.FAILED] += count;
    this.dev[i * D_FIELDS + D.FAILED] += count;
    this.error(i, kind, count);
  }

  error(i: number, kind: ErrorKind, count = 1): void {
    this.c[C.ERRORS] += count;
    this.dev[i * D_FIELDS + ERR_INDEX[kind]] += count;
    this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + count;
    this.dirty[i] |= STATE;
  }

  connectAttempt(i: number): void {
    this.c[C.CONNECT_ATTEMPTS]++;
    this.endpoints.attempt(i);
  }

  connected(i: number, at: number, ms: number): void {
    const row = i * D_FIELDS;
    this.c[C.CONNECT_OK]++;
    this.byOutcome.accepted = (this.byOutcome.accepted ?? 0) + 1;
    this.dev[row + D.CONNECTS]++;
    if (this.dev[row + D.CONNECTED_AT] === 0) {
      this.dev[row + D.CONNECTED_AT] = Math.round(at);
      this.dev[row + D.CONNECT_MS] = ms3(ms);
    }
    this.dirty[i] |= STATE;
    recordMs(this.connectHist, ms);
    this.endpoints.connected(i, ms);
    this.event({ ts: Math.round(at), ev: 'connected', device: this.names[i].name, connectMs: ms3(ms) });
  }

  /** A connection of row i failed before it was up (`c`, `kind`) or dropped (`lost` messages in flight). */
  failed(i: number, ts: number, c: Cause, kind: ErrorKind | null, connecting: boolean, lost: number): void {
    const row = i * D_FIELDS;
    const device = this.names[i].name;
    if (connecting) {
      this.c[C.CONNECT_FAILED]++;
      this.byOutcome[c.cause] = (this.byOutcome[c.cause] ?? 0) + 1;
      this.dev[row + D.CONNECT_FAILURES]++;
      this.error(i, kind ?? 'connect-error');
      this.event({ ts, ev: 'connect-failed', device, cause: c.cause, class: c.class });
    } else {
      if (kind) this.error(i, kind);
      this.event({ ts, ev: 'disconnect', device, cause: c.cause, class: c.class, lostInFlight: lost });
    }
    this.c[C.DISCONNECTS]++;
    this.dev[row + D.DISCONNECTS]++;
    this.dirty[i] |= STATE;
    this.byCause[c.cause] = (this.byCause[c.cause] ?? 0) + 1;
    this.byClass[c.class] = (this.byClass[c.class] ?? 0) + 1;
    this.endpoints.failed(i, c.cause, c.class, connecting);
    if (this.disconnects.length < MAX_DISCONNECT_RECORDS_PER_SNAPSHOT) this.disconnects.push({ i, at: ts, cause: c.cause, class: c.class });
  }

  /** The snapshot's share of these tallies; histograms, events and disconnects start over. */
  take(): SnapshotTallies {
    const part = {
      byOutcome: { ...this.byOutcome },
      byCause: { ...this.byCause },
      byClass: { ...this.byClass },
      errorsByKind: { ...this.errorsByKind },
      hist: {
        ackMs: encodeHistogram(this.ackHist),
        connectMs: encodeHistogram(this.connectHist),
        scheduleLagMs: encodeHistogram(this.lagHist),
      },
      disconnects: this.disconnects,
      events: this.events,
    };
    this.ackHist.reset();
    this.connectHist.reset();
    this.lagHist.reset();
    this.disconnects = [];
    this.events = [];
    return part;
  }
}
