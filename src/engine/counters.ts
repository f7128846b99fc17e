// Layout of the numbers a shard keeps in typed arrays and ships in every snapshot: shard-wide
// counters (C) and per-device fields (D, one row of D_FIELDS per device). Shared by both sides
// of the shard protocol so indices cannot drift apart.
import { ERROR_KINDS } from '../device/causes.js';

/** Shard-wide counters (cumulative) and gauges (current value). */
export const C = {
  SENT: 0,
  ACKED: 1,
  FAILED: 2,
  BYTES: 3,
  SKIPPED: 4,
  CONNECT_ATTEMPTS: 5,
  CONNECT_OK: 6,
  CONNECT_FAILED: 7,
  DISCONNECTS: 8,
  ERRORS: 9,
  /** gauges, recomputed for every snapshot */
  CONNECTED: 10,
  PAUSED: 11,
  /** devices the stages want active and not paused */
  WANTED: 12,
  /** devices down after a failure (waiting to reconnect, or given up) or that never connected */
  FAILED_DEVICES: 13,
  IN_FLIGHT: 14,
  /** events the shard dropped because the per-second bound was reached */
  EVENTS_DROPPED: 15,
} as const;
export const C_FIELDS = 16;

/** Per-device fields, row-major: value of field f of local device i at `i * D_FIELDS + f`. */
export const D = {
  SENT: 0,
  ACKED: 1,
  FAILED: 2,
  SKIPPED: 3,
  CONNECTS: 4,
  CONNECT_FAILURES: 5,
  DISCONNECTS: 6,
  /** first successful CONNACK, ms since epoch (0 = never) */
  CONNECTED_AT: 7,
  /** connect latency of the first connect, ms */
  CONNECT_MS: 8,
  FIRST_PUB: 9,
  LAST_PUB: 10,
  LAST_SEQ: 11,
  /** bit 0 connected, bit 1 paused */
  FLAGS: 12,
  /** error counts, one per ERROR_KINDS entry */
  ERR0: 13,
} as const;
export const D_FIELDS = D.ERR0 + ERROR_KINDS.length;
export const FLAG_CONNECTED = 1;
export const FLAG_PAUSED = 2;
