// One device's stored rows: the complete (timestamp, key set) log that exact COUNT queries read,
// and a bounded ring of the most recent rows with their values for raw history and MIN/MAX/AVG/SUM.

/** Deleted data of one key: rows with log position < `beforeRow` and ts in [startTs, endTs). */
interface Tombstone {
  key: string;
  startTs: number;
  endTs: number;
  beforeRow: number;
}

export class RowHistory {
  private ts = new Float64Array(16);
  private ks = new Uint32Array(16);
  /** Rows in the log. */
  rows = 0;
  /** Rows appended since creation (log positions for tombstones stay valid after trimming). */
  private appended = 0;
  private trimmed = 0;
  private readonly recentTs: Float64Array;
  private readonly recentVals: Record<string, unknown>[];
  private recentHead = 0;
  recentCount = 0;
  private tombstones: Tombstone[] = [];

  constructor(
    private readonly maxRows: number,
    recentRows: number,
  ) {
    this.recentTs = new Float64Array(Math.max(1, recentRows));
    this.recentVals = new Array(Math.max(1, recentRows));
  }

  append(ts: number, keyset: number, values: Record<string, unknown>): void {
    if (this.rows === this.ts.length) this.grow();
    let i = this.rows;
    // keep the log sorted by ts; out-of-order rows (client `ts`) are rare
    while (i > 0 && this.ts[i - 1] > ts) {
      this.ts[i] = this.ts[i - 1];
      this.ks[i] = this.ks[i - 1];
      i--;
    }
    this.ts[i] = ts;
    this.ks[i] = keyset;
    this.rows++;
    this.appended++;
    const cap = this.recentTs.length;
    this.recentTs[this.recentHead] = ts;
    this.recentVals[this.recentHead] = values;
    this.recentHead = (this.recentHead + 1) % cap;
    if (this.recentCount < cap) this.recentCount++;
  }

  private grow(): void {
    if (this.rows >= this.maxRows) {
      // retention: forget the oldest half
      const keep = this.rows >> 1;
      this.ts.copyWithin(0, this.rows - keep, this.rows);
      this.ks.copyWithin(0, this.rows - keep, this.rows);
      this.trimmed += this.rows - keep;
      this.rows = keep;
      return;
    }
    const n = Math.min(this.maxRows, this.ts.length * 2);
    const ts = new Float64Array(n);
    ts.set(this.ts);
    const ks = new Uint32Array(n);
    ks.set(this.ks);
    this.ts = ts;
    this.ks = ks;
  }

  /** First log index with ts ≥ t. */
  private lowerBound(t: number): number {
    let lo = 0;
    let hi = this.rows;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private deleted(key: string, ts: number, row: number): boolean {
    for (const t of this.tombstones) if (t.key === key && row < t.beforeRow && ts >= t.startTs && ts < t.endTs) return true;
    return false;
  }

  /** Counts rows containing `key` (per `has`, indexed by key set id) in [startTs, endTs), per bucket. */
  countBuckets(key: string, has: boolean[], startTs: number, endTs: number, bucketOf: (ts: number) => number): Map<number, number> {
    const out = new Map<number, number>();
    const tomb = this.tombstones.some((t) => t.key === key);
    for (let i = this.lowerBound(startTs); i < this.rows && this.ts[i] < endTs; i++) {
      if (!has[this.ks[i]]) continue;
      if (tomb && this.deleted(key, this.ts[i], this.trimmed + i)) continue;
      const b = bucketOf(this.ts[i]);
      out.set(b, (out.get(b) ?? 0) + 1);
    }
    return out;
  }

  /** Recent rows (newest first) that have a non-null `key` with ts in [startTs, endTs). */
  recent(key: string, startTs: number, endTs: number): { ts: number; value: unknown }[] {
    const out: { ts: number; value: unknown }[] = [];
    const cap = this.recentTs.length;
    const firstRow = this.appended - this.recentCount;
    for (let j = 0; j < this.recentCount; j++) {
      const slot = (this.recentHead - 1 - j + cap * 2) % cap;
      const ts = this.recentTs[slot];
      const v = this.recentVals[slot][key];
      if (v === undefined || v === null || ts < startTs || ts >= endTs) continue;
      if (this.tombstones.length && this.deleted(key, ts, firstRow + this.recentCount - 1 - j)) continue;
      out.push({ ts, value: v });
    }
    return out.sort((a, b) => b.ts - a.ts);
  }

  /** Deletes the data of `key` in [startTs, endTs) stored so far. */
  delete(key: string, startTs: number, endTs: number): void {
    this.tombstones.push({ key, startTs, endTs, beforeRow: this.appended });
  }
}
