// The seam between the engine and what simulated devices do on the wire.
//
// The engine's shard (src/engine/shard-state.ts) owns the life of every *row*: one simulated
// device, one line of the report. It decides when a row connects (connect queue, rate and cap),
// when it is due to send (timer wheel), how long an ack may take, when it reconnects (backoff),
// pauses, leaves a stage or stops, and counts all of it in typed arrays. A `Workload` owns the
// connections and the bytes: it opens what row i needs, builds the messages the shard asks for,
// and reports back through `WorkloadHost` what the wire said (connected, acked, closed).
//
//   shard ──connect(i) / append(i, …) + flush(i) / housekeep(i) / close(i) / abort(i)──▶ workload
//   shard ◀──────────────── connected(i) / acked(i, id) / closed(i, cause) ──────────── workload
//
// Every row has a kind (its fleet workload: `device`, `http`, `gateway`); the shard builds one
// implementation per kind present (WorkloadContext) and routes each row's calls to its kind's
// (src/engine/workload-rows.ts; with one kind, the implementation itself, no routing at all).
// Implementations: one MQTT connection per device publishing telemetry
// (src/device/mqtt-telemetry.ts). The same contract carries the next kinds:
// - gateway sessions (one connection, many devices): rows are the gateway's child devices;
//   `connect(i)` opens the gateway connection or joins an open one (and announces the device),
//   `append` writes the child's message into the gateway's batch, `flush` writes the batch, and a
//   dropped gateway connection reports `closed` for each of its rows;
// - RPC responders: server-initiated requests arrive on the workload's connection; it answers
//   them itself and reports them to the host (a `received` hook is the expected addition);
// - HTTP devices: `connect` reports `connected` once its keep-alive agent is ready, `append` +
//   `flush` send one request, its response is `acked` (ackId = the request's id), and nothing
//   ever `closed` except an agent failure.
//
// Rules both sides keep, so the hot path stays allocation-free: indices are integers, times are
// the engine clock's ms (`clock.now()`), no callback or object per message; host callbacks come
// from I/O events, never synchronously from inside a Workload call. This module imports nothing
// from the engine: the engine depends on the device contract, not the reverse.
import type { DeviceCredentials } from '../common/fleet.js';
import type { FleetWorkload, WorkloadName } from '../common/workloads.js';
import type { WorkloadMeter } from '../metrics/workload-meter.js';
import type { Cause, ErrorKind } from './causes.js';
import type { OverlaySet } from './overlay-set.js';

/** One row as a workload sees it. */
export interface WorkloadDevice {
  name: string;
  /** 1-based fleet index. */
  index: number;
  credentials: DeviceCredentials;
  /** The fleet workload that owns the row (absent: `device`). */
  workload?: FleetWorkload;
  /** ThingsBoard's device id (the REST calls of the `rpc` and `attributes` workloads address it). */
  id?: string;
}

/**
 * What a workload implementation is built from (src/engine/workload-factories.ts), one per row
 * kind present in the shard. Row indices are the shard's: `devices[i]` for every row, of which
 * this implementation serves `rows` (the shard routes only those rows' calls to it).
 */
export interface WorkloadContext {
  host: WorkloadHost;
  clock: WorkloadClock;
  /** Every row of the shard, by shard row index. */
  devices: readonly WorkloadDevice[];
  /** The shard rows this implementation owns, ascending. */
  rows: readonly number[];
  /** The run's workloads: an overlay (`rpc`, `attributes`) listed here rides the `device` rows' sessions. */
  workloads: readonly WorkloadName[];
  /**
   * The shard's meter of workload `name` (the implementation's own, or an overlay's it serves): its
   * counters and histograms reach `workloads.<name>` of the snapshot. For a fleet workload the shard
   * fills `devices`, `sent`, `acked`, `failed`, `inFlight` and `latencyMs` from the rows itself.
   */
  meter(name: WorkloadName): WorkloadMeter;
  /** The overlay workloads (`rpc`, `attributes`) the `device` rows' sessions carry; null when none run. */
  overlays: OverlaySet | null;
}

/** What the shard asks of a workload. `i` is the shard-local row (0..n-1). */
export interface Workload {
  /** Starts connecting row i (from `localAddress` when given); later `connected(i)` or `closed(i)`. */
  connect(i: number, localAddress: string | undefined): void;
  /** Row i's connection holds more unsent bytes than it may buffer: skip its due messages. */
  backedUp(i: number): boolean;
  /**
   * Adds message `seq` of row i (payload timestamp `ts`, ms) to row i's pending write; `ackId`
   * (1..65535) is echoed by `acked`, 0 = no ack expected. Returns the message's size, bytes.
   */
  append(i: number, seq: number, ts: number, ackId: number): number;
  /** Sends what `append` gathered for row i since the last flush, in one write. */
  flush(i: number, now: number): void;
  /** Every housekeeping round (250 ms) for each connected row: keepalive and similar. */
  housekeep(i: number, now: number): void;
  /**
   * Ends row i's connection on purpose. `graceful`: say goodbye (MQTT DISCONNECT) and let the
   * server close first; otherwise destroy it. Ends with `closed(i, …)` (its cause is ignored).
   */
  close(i: number, graceful: boolean): void;
  /** Ends row i's connection as a failure with `cause` (the first cause reported wins). */
  abort(i: number, cause: Cause, kind: ErrorKind | null): void;
}

/** What a workload reports to the shard. */
export interface WorkloadHost {
  /** Row i's session is up (CONNACK accepted) at `at`. */
  connected(i: number, at: number): void;
  /**
   * Message `ackId` of row i was acknowledged at `at`; `refused` = the server's reason text, null when
   * accepted. A refused message counts failed, as an error of `kind` (default `puback-error`).
   */
  acked(i: number, ackId: number, at: number, refused: string | null, kind?: ErrorKind): void;
  /** Row i's connection is gone; `cause`/`kind` explain a failure (null: server closed, or on purpose). */
  closed(i: number, cause: Cause | null, kind: ErrorKind | null): void;
}

/** The engine's clock as a workload sees it (ms since the epoch, sub-ms precision). */
export interface WorkloadClock {
  now(): number;
}
