// Atomic file writes (temp file + fsync + rename) for everything that matters: tokens, reports,
// control lists. A crash mid-write leaves the previous version, never a torn file.
import {
  mkdirSync,
  writeFileSync,
  writeSync,
  renameSync,
  openSync,
  fsyncSync,
  closeSync,
  rmSync,
  readFileSync,
  existsSync,
  chmodSync,
  linkSync,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** File mode, e.g. 0o600 for token files. Applied to the temp file before the rename. */
  mode?: number;
  /**
   * fsync before the rename (default true). Without it the write is still atomic for a crash of
   * the process (never a torn file), only not for a power loss: for frequent checkpoints.
   */
  fsync?: boolean;
}

/** `data` as chunks is written in order, never joined in memory (large reports). */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[], opts: AtomicWriteOptions = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const mode = opts.mode ?? 0o644;
  try {
    if (Array.isArray(data)) writeChunks(tmp, data, mode);
    else writeFileSync(tmp, data as string | Uint8Array, { mode });
    chmodSync(tmp, mode); // umask may have narrowed or widened it
    if (opts.fsync !== false) {
      const fd = openSync(tmp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Makes `path` a second name (hard link) of the file `existing`, replacing whatever `path` was
 * atomically (link to a temp name, then rename). False when the file system has no hard links:
 * the caller then writes a copy.
 */
export function linkAtomic(existing: string, path: string): boolean {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    linkSync(existing, tmp);
  } catch {
    return false;
  }
  try {
    renameSync(tmp, path);
    return true;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function writeChunks(path: string, chunks: readonly Uint8Array[], mode: number): void {
  const fd = openSync(path, 'w', mode);
  try {
    for (const c of chunks) for (let off = 0; off < c.length;) off += writeSync(fd, c, off);
  } finally {
    closeSync(fd);
  }
}

export function writeJsonAtomic(path: string, value: unknown, opts: AtomicWriteOptions = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', opts);
}

/** Reads JSON, or returns `fallback` when the file does not exist. Parse errors throw. */
export function readJsonFile<T>(path: string, fallback: T): T {
  if (!existsSync(path)) return fallback;
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
