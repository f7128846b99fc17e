// Exact accounting of one device from the `sequence` values the server stored: which of 1..sent
// are missing, which were stored twice, and which were stored late. Pure: no I/O.

/** One stored point of the `sequence` key, with the payload's `timestamp` when it was read too. */
export interface StoredPoint {
  /** Server timestamp of the point, ms. */
  ts: number;
  seq: number;
  /** The payload's `timestamp` field (publish time, lab clock), ms. */
  publishedAt?: number;
}

export interface SequenceAnalysis {
  /** Points stored (duplicates included). */
  stored: number;
  /** Distinct values of 1..sent stored. */
  distinct: number;
  /** Values of 1..sent never stored. */
  lost: number;
  /** The first `limit` of them, ascending. */
  lostSequences: number[];
  /** Repeats of a value already stored (each repeat counts). */
  duplicates: number;
  /** Stored values outside 1..sent (another writer, or a previous run inside the window). */
  unexpected: number;
  /** Points whose server ts is more than `lateMs` after their publish time. */
  lateByTs: number;
}

/** Most missing sequence values listed per device. */
export const LOST_LIST_LIMIT = 1000;

export function analyzeSequences(points: readonly StoredPoint[], sent: number, lateMs: number, limit = LOST_LIST_LIMIT): SequenceAnalysis {
  const seen = new Uint8Array(sent + 1);
  let distinct = 0;
  let duplicates = 0;
  let unexpected = 0;
  let lateByTs = 0;
  for (const p of points) {
    if (p.publishedAt !== undefined && p.ts - p.publishedAt > lateMs) lateByTs++;
    if (!Number.isInteger(p.seq) || p.seq < 1 || p.seq > sent) {
      unexpected++;
      continue;
    }
    if (seen[p.seq]) duplicates++;
    else {
      seen[p.seq] = 1;
      distinct++;
    }
  }
  const lostSequences: number[] = [];
  for (let s = 1; s <= sent && lostSequences.length < limit; s++) if (!seen[s]) lostSequences.push(s);
  return { stored: points.length, distinct, lost: sent - distinct, lostSequences, duplicates, unexpected, lateByTs };
}

/** Devices evenly spread over the fleet (every k-th), so every shard and index range is represented. */
export function pickSample<T>(items: readonly T[], n: number): T[] {
  if (n >= items.length) return [...items];
  if (n <= 0) return [];
  const out: T[] = [];
  for (let k = 0; k < n; k++) out.push(items[Math.floor((k * items.length) / n)]);
  return out;
}
