// The process's resident memory for the snapshots. libuv reads it from /proc/self/stat, which takes a
// file descriptor: out of open files (EMFILE, the very state a big run measures) the read throws,
// and a throw in a shard's housekeeping timer would kill the shard. The last value read stands in.
let lastMB = 0;

/** Resident set size in MB; the last value read when it cannot be read now. */
export function rssMB(): number {
  try {
    lastMB = Math.round(process.memoryUsage.rss() / 1048576);
  } catch {
    // EMFILE / ENFILE: keep the last value; the sockets' EMFILE is counted as their cause
  }
  return lastMB;
}
