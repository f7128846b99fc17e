// Row states of the shard's state machine (src/engine/shard-state.ts) and the dirty bits that
// say why a row is due in the next snapshot.

/** Row (device) states, one byte each in ShardState.state. */
export const S = {
  IDLE: 0,
  QUEUED: 1,
  CONNECTING: 2,
  UP: 3,
  BACKOFF: 4,
  PAUSED: 5,
  CLOSING: 6,
  /** down after a failure with reconnect off */
  DOWN: 7,
  STOPPED: 8,
} as const;

/** Only the row's traffic counters moved (sent, acked, skipped). */
export const TRAFFIC = 1;
/** The row's state or error counts changed. */
export const STATE = 2;
