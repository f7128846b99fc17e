// What the emulator knows about one device beyond its identity: counters, sequences, stored
// rows, latest values, attributes by scope and the activity timestamps ThingsBoard keeps.
import { SequenceTracker } from './sequences.js';
import { RowHistory } from './history.js';

export interface AttributeValue {
  lastUpdateTs: number;
  value: unknown;
}

export type AttributeScope = 'CLIENT_SCOPE' | 'SERVER_SCOPE' | 'SHARED_SCOPE';

export class DeviceState {
  /** Telemetry messages stored (one MQTT PUBLISH or HTTP POST, whatever its row count). */
  messages = 0;
  /** Key/value pairs stored (null values excluded). */
  dataPoints = 0;
  /** Rows stored (an array payload carries several). */
  rowCount = 0;
  attributeMessages = 0;
  /** Telemetry messages acknowledged but not stored (ingestLoss fault). */
  ingestDropped = 0;
  /** Messages refused by a transport rate limit. */
  rateLimited = 0;
  readonly sequences = new SequenceTracker();
  readonly history: RowHistory;
  /** Newest row per key set id: latest values without a per-key map update on every message. */
  readonly latestByKeyset = new Map<number, { ts: number; values: Record<string, unknown> }>();
  /** Key set of the previous row (the common case is the same set again). */
  lastKeyset = -1;
  firstTs = 0;
  lastTs = 0;
  readonly attributes: Record<AttributeScope, Map<string, AttributeValue>> = {
    CLIENT_SCOPE: new Map(),
    SERVER_SCOPE: new Map(),
    SHARED_SCOPE: new Map(),
  };
  /** Activity (ms; 0 = never). */
  lastActivityTime = 0;
  lastConnectTime = 0;
  lastDisconnectTime = 0;
  /** Sessions accepted for this device, and server-initiated closes. */
  connects = 0;
  disconnects = 0;

  constructor(historyRows: number, recentRows: number) {
    this.history = new RowHistory(historyRows, recentRows);
  }
}
