// The per-device records of the report, read from the rows the shards send (counters.ts layout),
// and their JSON for checkpoints, cached per block of devices.
import type { DeviceRecord, DisconnectRecord } from '../metrics/records.js';
import { ERROR_KINDS } from '../device/causes.js';
import { D, D_FIELDS, FLAG_PAUSED } from './counters.js';

/**
 * Devices per cached checkpoint block (~70 KB of JSON). The checkpoint JSON is kept as UTF-8
 * Buffers per block, re-encoded only when a device in it changed: one string per device plus the
 * joined multi-MB checkpoint string cost the supervisor ~25 MB RSS at 19,000 devices (B3).
 */
export const JSON_BLOCK = 256;

/** What the records are read from: one shard's device table. */
export interface DeviceRows {
  status: { id: number };
  names: string[];
  indices: number[];
  rows: Float64Array;
  disconnects: Map<number, DisconnectRecord[]>;
  /** 1 = a record of block b (devices b·JSON_BLOCK…) changed since its cached JSON was built */
  stale: Uint8Array;
  /** cached `"name":{record},…` JSON (UTF-8) per block of JSON_BLOCK devices, for checkpoints */
  json: Buffer[];
}

const OPEN = Buffer.from('{');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from('}');

export function deviceRecord(v: DeviceRows, i: number): DeviceRecord {
  const r = i * D_FIELDS;
  const x = v.rows;
  const errors: Record<string, number> = {};
  ERROR_KINDS.forEach((k, n) => {
    if (x[r + D.ERR0 + n] > 0) errors[k] = x[r + D.ERR0 + n];
  });
  return {
    index: v.indices[i],
    shard: v.status.id,
    connectedAt: x[r + D.CONNECTED_AT] || null,
    connectMs: x[r + D.CONNECTED_AT] ? x[r + D.CONNECT_MS] : null,
    firstPublishAt: x[r + D.FIRST_PUB] ? Math.round(x[r + D.FIRST_PUB]) : null,
    lastPublishAt: x[r + D.LAST_PUB] ? Math.round(x[r + D.LAST_PUB]) : null,
    sent: x[r + D.SENT],
    acked: x[r + D.ACKED],
    failed: x[r + D.FAILED],
    skipped: x[r + D.SKIPPED],
    connects: x[r + D.CONNECTS],
    connectFailures: x[r + D.CONNECT_FAILURES],
    disconnects: v.disconnects.get(i) ?? [],
    errors,
    paused: (x[r + D.FLAGS] & FLAG_PAUSED) !== 0,
    lastSequence: x[r + D.LAST_SEQ],
  };
}

/**
 * `JSON.stringify(deviceRecords())` of the aggregator for checkpoints as UTF-8 chunks to write in order,
 * re-encoding only the blocks with a changed record since the last call (rebuilding every
 * record every 5 s was a large part of the supervisor's CPU and memory at 5,000+ devices).
 */
export function deviceRecordsJson(shards: readonly DeviceRows[]): Buffer[] {
  const out: Buffer[] = [OPEN];
  for (const v of shards) {
    for (let b = 0; b < v.json.length; b++) {
      if (v.stale[b]) {
        const parts: string[] = [];
        for (let i = b * JSON_BLOCK, end = Math.min(v.names.length, i + JSON_BLOCK); i < end; i++) {
          parts.push(JSON.stringify(v.names[i]) + ':' + (plainRecordJson(v, i) ?? JSON.stringify(deviceRecord(v, i))));
        }
        v.json[b] = Buffer.from(parts.join(','));
        v.stale[b] = 0;
      }
      if (out.length > 1) out.push(COMMA);
      out.push(v.json[b]);
    }
  }
  out.push(CLOSE);
  return out;
}

/**
 * `JSON.stringify(deviceRecord(v, i))` without building the record, for the common device (no
 * errors, no disconnects, finite numbers); null for any other, which the caller encodes the long way.
 * At 100,000 devices the records' encoding was most of a checkpoint's cost (bench/supervisor-scale.ts).
 */
function plainRecordJson(v: DeviceRows, i: number): string | null {
  const r = i * D_FIELDS;
  const x = v.rows;
  if (v.disconnects.has(i)) return null;
  for (let f = r; f < r + D_FIELDS; f++) if (!Number.isFinite(x[f]) || (f >= r + D.ERR0 && x[f] > 0)) return null;
  const connectedAt = x[r + D.CONNECTED_AT];
  const first = x[r + D.FIRST_PUB];
  const last = x[r + D.LAST_PUB];
  return (
    `{"index":${v.indices[i]},"shard":${v.status.id},"connectedAt":${connectedAt || null},` +
    `"connectMs":${connectedAt ? x[r + D.CONNECT_MS] : null},"firstPublishAt":${first ? Math.round(first) : null},` +
    `"lastPublishAt":${last ? Math.round(last) : null},"sent":${x[r + D.SENT]},"acked":${x[r + D.ACKED]},` +
    `"failed":${x[r + D.FAILED]},"skipped":${x[r + D.SKIPPED]},"connects":${x[r + D.CONNECTS]},` +
    `"connectFailures":${x[r + D.CONNECT_FAILURES]},"disconnects":[],"errors":{},` +
    `"paused":${(x[r + D.FLAGS] & FLAG_PAUSED) !== 0},"lastSequence":${x[r + D.LAST_SEQ]}}`
  );
}
