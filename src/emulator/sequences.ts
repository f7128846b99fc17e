// Every `sequence` value one device published, kept exactly in a sparse bitset (4,096 values per
// 512-byte chunk), so gaps and duplicates are counts, not estimates, at a few bytes per message.
const CHUNK_BITS = 4096;
const CHUNK_WORDS = CHUNK_BITS / 32;

export class SequenceTracker {
  private readonly chunks = new Map<number, Uint32Array>();
  private lastIdx = -1;
  private last: Uint32Array | undefined;
  /** Distinct values seen. */
  distinct = 0;
  /** Values seen more than once (each repeat counts). */
  duplicates = 0;
  min = 0;
  max = 0;

  /** Records one value (a whole number ≥ 1); returns false for a duplicate. */
  add(seq: number): boolean {
    const idx = Math.floor(seq / CHUNK_BITS);
    let chunk = idx === this.lastIdx ? this.last : this.chunks.get(idx);
    if (!chunk) this.chunks.set(idx, (chunk = new Uint32Array(CHUNK_WORDS)));
    this.lastIdx = idx;
    this.last = chunk;
    const bit = seq - idx * CHUNK_BITS;
    const mask = 1 << (bit & 31);
    const w = bit >>> 5;
    if (chunk[w] & mask) {
      this.duplicates++;
      return false;
    }
    chunk[w] |= mask;
    if (this.distinct === 0 || seq < this.min) this.min = seq;
    if (seq > this.max) this.max = seq;
    this.distinct++;
    return true;
  }

  has(seq: number): boolean {
    const idx = Math.floor(seq / CHUNK_BITS);
    const chunk = this.chunks.get(idx);
    if (!chunk) return false;
    const bit = seq - idx * CHUNK_BITS;
    return (chunk[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  /** Values missing from 1..max (sequences start at 1). */
  get gaps(): number {
    return this.max - this.distinct;
  }

  /** The first `limit` missing values of 1..max, ascending. */
  missing(limit: number): number[] {
    const out: number[] = [];
    for (let s = 1; s <= this.max && out.length < limit; s++) {
      const idx = Math.floor(s / CHUNK_BITS);
      if (!this.chunks.has(idx)) {
        // a whole absent chunk: every value in it is missing
        const end = Math.min(this.max, (idx + 1) * CHUNK_BITS - 1);
        for (; s <= end && out.length < limit; s++) out.push(s);
        s--;
        continue;
      }
      if (!this.has(s)) out.push(s);
    }
    return out;
  }
}
