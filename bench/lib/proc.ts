// Process accounting from /proc: CPU time (utime+stime) and RSS of a process and all its
// descendants (the lab's shard children included), and the machine's total busy CPU time.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

function getconf(name: string, fallback: number): number {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
  } catch {
    return fallback;
  }
}

/** Kernel clock ticks per second (USER_HZ) used by /proc/<pid>/stat (10 ms resolution at 100). */
export const CLK_TCK = getconf('CLK_TCK', 100);
const PAGE_KB = getconf('PAGESIZE', 4096) / 1024;

interface Stat {
  ppid: number;
  /** utime + stime, in clock ticks */
  cpuTicks: number;
  /** resident set, in pages */
  rssPages: number;
}

function readStat(pid: number): Stat | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may contain spaces and parentheses: parse after the last ')'
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3]
  return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), rssPages: Number(f[21]) };
}

/** `root` and every live descendant of it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readStat(pid);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/** CPU seconds (user + system) per pid, for pids still alive. */
export function cpuSeconds(pids: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of pids) {
    const st = readStat(pid);
    if (st) m.set(pid, st.cpuTicks / CLK_TCK);
  }
  return m;
}

/** CPU seconds spent between two `cpuSeconds` readings by the pids present in both. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) {
    const t0 = before.get(pid);
    if (t0 !== undefined) sum += t - t0;
  }
  return sum;
}

/** Summed resident memory of the pids, MB. */
export function rssMB(pids: readonly number[]): number {
  let pages = 0;
  for (const pid of pids) pages += readStat(pid)?.rssPages ?? 0;
  return (pages * PAGE_KB) / 1024;
}

/** Machine-wide CPU seconds: busy (all but idle and iowait) and total, from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest fields are already inside user/nice)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = v[3] + v[4];
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}
