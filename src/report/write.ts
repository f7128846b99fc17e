// The report file of a run: <data>/runs/<run-id>.json and latest.json, always replaced atomically,
// so a crash at any moment leaves the previous checkpoint (outcome `partial`) or the final report.
// latest.json is a hard link to the run's file where the file system allows it: a report of a
// 100,000-device run is ~27 MB, and writing it twice per checkpoint doubled the lab's disk traffic.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { linkAtomic, writeFileAtomic } from '../common/fs.js';
import type { RunReport } from './schema.js';

/** Stands in for the devices object while the rest of a checkpoint is stringified. */
const DEVICES_MARK = '\u0000devices\u0000';

export class ReportFiles {
  readonly reportPath: string;
  readonly latestPath: string;
  /** Whether the last write made latest.json a link to the report (false: a copy was written). */
  latestLinked = false;

  constructor(
    dataDir: string,
    readonly runId: string,
  ) {
    this.reportPath = join(dataDir, 'runs', `${runId}.json`);
    this.latestPath = join(dataDir, 'runs', 'latest.json');
    mkdirSync(join(dataDir, 'runs'), { recursive: true });
  }

  /** Writes the report and latest.json atomically, fsynced. */
  writeReport(r: RunReport): void {
    const bytes = Buffer.from(JSON.stringify(r) + '\n'); // encoded once for both files (MBs at 10k+ devices)
    writeFileAtomic(this.reportPath, bytes, { fsync: true });
    this.latest(bytes, true);
  }

  /**
   * A checkpoint: `r` with its devices given as ready JSON chunks (`devicesJson`, written as they
   * are, never joined into one multi-MB string), written atomically without fsync (it only has to
   * survive a crash of this process; the final report is fsynced).
   */
  writeCheckpoint(r: RunReport, devicesJson: readonly Uint8Array[]): void {
    const text = JSON.stringify({ ...r, devices: DEVICES_MARK });
    const mark = JSON.stringify(DEVICES_MARK);
    const at = text.indexOf(mark);
    const chunks = [Buffer.from(text.slice(0, at)), ...devicesJson, Buffer.from(text.slice(at + mark.length) + '\n')];
    writeFileAtomic(this.reportPath, chunks, { fsync: false });
    this.latest(chunks, false);
  }

  /** latest.json: the report file under a second name, or a copy of `data` without hard links. */
  private latest(data: Buffer | readonly Uint8Array[], fsync: boolean): void {
    this.latestLinked = linkAtomic(this.reportPath, this.latestPath);
    if (!this.latestLinked) writeFileAtomic(this.latestPath, data, { fsync });
  }
}
