// The files the engine writes while a run goes: per-shard events JSONL and per-shard metrics CSV
// (appended). The report itself is src/report/write.ts, written by the run pipeline in src/lab.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { C } from './counters.js';
import type { ShardSnapshot } from './protocol.js';
import type { ShardSecond } from './rates.js';

/** `20261127-144501-ab12` (UTC), with `-i2of4` for an instance. */
export function makeRunId(now = new Date(), instance?: { index: number; count: number } | null): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}${instance ? `-i${instance.index}of${instance.count}` : ''}`;
}

export const CSV_COLUMNS = [
  'ts',
  't',
  'sent',
  'acked',
  'failed',
  'skipped',
  'inFlight',
  'bytesSent',
  'connected',
  'paused',
  'connectAttempts',
  'connectSucceeded',
  'connectFailed',
  'disconnects',
  'errors',
  'sentPerSec',
  'ackedPerSec',
  'ackP99Ms',
  'scheduleLagP99Ms',
  'eventLoopP99Ms',
  'cpuPercent',
  'rssMB',
] as const;
export type CsvRow = Record<(typeof CSV_COLUMNS)[number], number | null>;

/** A shard's metrics CSV line from its snapshot; `sec` holds this second's p99s (Aggregator.apply), `t0` the run start. */
export function csvRow(s: ShardSnapshot, sec: ShardSecond, t0: number): CsvRow {
  const c = s.counters;
  return {
    ts: s.at,
    t: Math.round((s.at - t0) / 100) / 10,
    sent: c[C.SENT],
    acked: c[C.ACKED],
    failed: c[C.FAILED],
    skipped: c[C.SKIPPED],
    inFlight: c[C.IN_FLIGHT],
    bytesSent: c[C.BYTES],
    connected: c[C.CONNECTED],
    paused: c[C.PAUSED],
    connectAttempts: c[C.CONNECT_ATTEMPTS],
    connectSucceeded: c[C.CONNECT_OK],
    connectFailed: c[C.CONNECT_FAILED],
    disconnects: c[C.DISCONNECTS],
    errors: c[C.ERRORS],
    sentPerSec: sec.sentPerSec,
    ackedPerSec: sec.ackedPerSec,
    ackP99Ms: sec.ackP99Ms,
    scheduleLagP99Ms: sec.scheduleLagP99Ms,
    eventLoopP99Ms: s.eventLoopP99Ms,
    cpuPercent: s.cpuPercent,
    rssMB: s.rssMB,
  };
}

export class RunFiles {
  /** Paths relative to DATA_DIR, as listed in the report's `files`. */
  readonly relative: { events: string[]; metrics: string[] };
  private readonly events: WriteStream[] = [];
  private readonly metrics: WriteStream[] = [];

  constructor(
    dataDir: string,
    readonly runId: string,
    shards: number,
  ) {
    const sNN = (i: number) => `s${String(i).padStart(2, '0')}`;
    this.relative = {
      events: Array.from({ length: shards }, (_, i) => join('logs', `${runId}-${sNN(i)}-events.jsonl`)),
      metrics: Array.from({ length: shards }, (_, i) => join('metrics', `${runId}-${sNN(i)}-metrics.csv`)),
    };
    for (const d of ['logs', 'metrics']) mkdirSync(join(dataDir, d), { recursive: true });
    for (let i = 0; i < shards; i++) {
      this.events.push(createWriteStream(join(dataDir, this.relative.events[i]), { flags: 'a' }));
      const m = createWriteStream(join(dataDir, this.relative.metrics[i]), { flags: 'a' });
      m.write(CSV_COLUMNS.join(',') + '\n');
      this.metrics.push(m);
    }
  }

  event(shard: number, e: object): void {
    this.events[shard].write(JSON.stringify({ shard, ...e }) + '\n');
  }

  csv(shard: number, row: CsvRow): void {
    this.metrics[shard].write(CSV_COLUMNS.map((c) => (row[c] === null ? '' : String(row[c]))).join(',') + '\n');
  }

  async close(): Promise<void> {
    await Promise.all([...this.events, ...this.metrics].map((s) => new Promise<void>((res) => s.end(res))));
  }
}
