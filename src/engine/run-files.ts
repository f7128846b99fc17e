// Every file a run writes (DESIGN.md §4): the report and latest.json (atomic), per-shard events
// JSONL and per-shard metrics CSV (appended). Only the supervisor writes them.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../shared/fs.js';
import type { RunReport } from '../report/schema.js';

/** `20261127-144501-ab12` (UTC), with `-i2of4` for an instance. */
export function makeRunId(now = new Date(), instance?: { index: number; count: number } | null): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}${instance ? `-i${instance.index}of${instance.count}` : ''}`;
}

export const CSV_COLUMNS = [
  'ts', 't', 'sent', 'acked', 'failed', 'skipped', 'inFlight', 'bytesSent', 'connected', 'paused', 'connectAttempts',
  'connectSucceeded', 'connectFailed', 'disconnects', 'errors', 'sentPerSec', 'ackedPerSec', 'ackP99Ms', 'scheduleLagP99Ms',
  'eventLoopP99Ms', 'cpuPercent', 'rssMB',
] as const;
export type CsvRow = Record<(typeof CSV_COLUMNS)[number], number | null>;

/** Stands in for the devices object while the rest of a checkpoint is stringified. */
const DEVICES_MARK = '\u0000devices\u0000';

export class RunFiles {
  readonly reportPath: string;
  readonly latestPath: string;
  /** Paths relative to DATA_DIR, as listed in the report's `files`. */
  readonly relative: { events: string[]; metrics: string[] };
  private readonly events: WriteStream[] = [];
  private readonly metrics: WriteStream[] = [];

  constructor(private readonly dataDir: string, readonly runId: string, shards: number) {
    this.reportPath = join(dataDir, 'runs', `${runId}.json`);
    this.latestPath = join(dataDir, 'runs', 'latest.json');
    const sNN = (i: number) => `s${String(i).padStart(2, '0')}`;
    this.relative = {
      events: Array.from({ length: shards }, (_, i) => join('logs', `${runId}-${sNN(i)}-events.jsonl`)),
      metrics: Array.from({ length: shards }, (_, i) => join('metrics', `${runId}-${sNN(i)}-metrics.csv`)),
    };
    for (const d of ['runs', 'logs', 'metrics']) mkdirSync(join(dataDir, d), { recursive: true });
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

  /** Writes the report and latest.json atomically (a crash leaves the previous checkpoint). */
  writeReport(r: RunReport): void {
    this.write(JSON.stringify(r) + '\n', true);
  }

  /**
   * A checkpoint: `r` with its devices given as ready JSON chunks (`devicesJson`, written as they
   * are, never joined into one multi-MB string), written atomically without fsync (it only has to
   * survive a crash of this process; the final report is fsynced).
   */
  writeCheckpoint(r: RunReport, devicesJson: readonly Uint8Array[]): void {
    const text = JSON.stringify({ ...r, devices: DEVICES_MARK });
    const at = text.indexOf(JSON.stringify(DEVICES_MARK));
    const chunks = [Buffer.from(text.slice(0, at)), ...devicesJson, Buffer.from(text.slice(at + JSON.stringify(DEVICES_MARK).length) + '\n')];
    writeFileAtomic(this.reportPath, chunks, { fsync: false });
    writeFileAtomic(this.latestPath, chunks, { fsync: false });
  }

  private write(text: string, fsync: boolean): void {
    const bytes = Buffer.from(text); // encoded once for both files (MBs at 10k+ devices)
    writeFileAtomic(this.reportPath, bytes, { fsync });
    writeFileAtomic(this.latestPath, bytes, { fsync });
  }

  async close(): Promise<void> {
    await Promise.all([...this.events, ...this.metrics].map((s) => new Promise<void>((res) => s.end(res))));
  }
}
