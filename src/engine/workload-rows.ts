// Rows by workload kind in a shard: which fleet workload owns each row, the routing of row calls to
// that kind's implementation, and the counters every fleet workload gets from its rows (devices,
// sent, acked, failed, in flight), so that a workload's `sent = acked + failed + inFlight` holds
// by construction, from the same per-row fields as the device records of the report.
import type { Cause, ErrorKind } from '../device/causes.js';
import type { Workload } from '../device/workload.js';
import type { FleetWorkload } from '../common/workloads.js';
import { ERROR_KINDS } from '../device/causes.js';
import { D, D_FIELDS } from './counters.js';
import type { InflightWindows } from './inflight.js';
import type { ShardDevice } from './protocol.js';

export interface RowKinds {
  /** The fleet workloads present, by kind number. */
  kinds: FleetWorkload[];
  /** Row → kind number. */
  kind: Uint8Array;
  /** Kind number → its rows, ascending. */
  rows: number[][];
}

/**
 * 1 for each row whose messages are acknowledged: every row at QoS 1, and `http` rows always (a
 * request always gets its response, which is its acknowledgement).
 */
export function rowAcks(devices: readonly ShardDevice[], qos: 0 | 1): Uint8Array {
  return Uint8Array.from(devices, (d) => (qos === 1 || d.workload === 'http' ? 1 : 0));
}

export function rowKinds(devices: readonly ShardDevice[]): RowKinds {
  const kinds: FleetWorkload[] = [];
  const kind = new Uint8Array(devices.length);
  const rows: number[][] = [];
  devices.forEach((d, i) => {
    const w = d.workload ?? 'device';
    let k = kinds.indexOf(w);
    if (k < 0) {
      k = kinds.push(w) - 1;
      rows.push([]);
    }
    kind[i] = k;
    rows[k].push(i);
  });
  return { kinds, kind, rows };
}

/**
 * Several kinds in one shard: each call goes to the row's kind's implementation (one typed-array
 * read and one array read per call). A shard with one kind uses its implementation directly.
 */
export class WorkloadMux implements Workload {
  constructor(
    private readonly kind: Uint8Array,
    private readonly impls: readonly Workload[],
  ) {}

  connect(i: number, localAddress: string | undefined): void {
    this.impls[this.kind[i]].connect(i, localAddress);
  }
  backedUp(i: number): boolean {
    return this.impls[this.kind[i]].backedUp(i);
  }
  append(i: number, seq: number, ts: number, ackId: number): number {
    return this.impls[this.kind[i]].append(i, seq, ts, ackId);
  }
  flush(i: number, now: number): void {
    this.impls[this.kind[i]].flush(i, now);
  }
  housekeep(i: number, now: number): void {
    this.impls[this.kind[i]].housekeep(i, now);
  }
  close(i: number, graceful: boolean): void {
    this.impls[this.kind[i]].close(i, graceful);
  }
  abort(i: number, cause: Cause, kind: ErrorKind | null): void {
    this.impls[this.kind[i]].abort(i, cause, kind);
  }
}

/** Fleet counters per kind: `devices, sent, acked, failed, inFlight` summed over its rows (once a snapshot). */
export function fleetCounters(r: RowKinds, dev: Float64Array, inflight: InflightWindows): Array<Record<string, number>> {
  return r.rows.map((rows) => {
    let sent = 0,
      acked = 0,
      failed = 0,
      inFlight = 0;
    for (const i of rows) {
      const row = i * D_FIELDS;
      sent += dev[row + D.SENT];
      acked += dev[row + D.ACKED];
      failed += dev[row + D.FAILED];
      inFlight += inflight.count(i);
    }
    return { devices: rows.length, sent, acked, failed, inFlight };
  });
}

/** The failures the shard counts itself, as fleet workloads' causes (the refusals come with their own text). */
const SHARD_CAUSES = [
  ['ack-timeout', 'ack timeout'],
  ['lost-in-flight', 'lost in flight (connection closed)'],
] as const;
const ERR_AT = SHARD_CAUSES.map(([kind]) => D.ERR0 + ERROR_KINDS.indexOf(kind));

/**
 * Fleet causes per kind: ack timeouts and messages lost with their connection, summed over its rows,
 * plus the refusals by the server's reason (`refused`, Tallies.refusedByKind): every failed message
 * of a fleet workload has its cause, so `failed` = the sum of `byCause`.
 */
export function fleetCauses(r: RowKinds, dev: Float64Array, refused: ReadonlyArray<Record<string, number>>): Array<Record<string, number>> {
  return r.rows.map((rows, k) => {
    const out: Record<string, number> = { ...refused[k] };
    SHARD_CAUSES.forEach(([, cause], n) => {
      let sum = 0;
      for (const i of rows) sum += dev[i * D_FIELDS + ERR_AT[n]];
      if (sum > 0) out[cause] = sum;
    });
    return out;
  });
}
