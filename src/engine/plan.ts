// The shard plan: how many shard processes and which contiguous slice of the fleet each takes.
// Deterministic, so several machines (INSTANCE i/N) and shards never need a coordinator.
import { availableParallelism } from 'node:os';
import { sliceBounds } from '../common/fleet.js';

export interface ShardSlice {
  id: number;
  start: number;
  end: number;
}

/**
 * @param devices devices this lab instance runs
 * @param requested SHARDS (0 = one per core)
 * @param maxPerProcess MAX_CLIENTS_PER_PROCESS
 */
export function planShards(devices: number, requested: number, maxPerProcess: number, cores = availableParallelism()): ShardSlice[] {
  const needed = Math.ceil(devices / maxPerProcess);
  const n = Math.max(1, Math.min(Math.max(devices, 1), Math.max(requested || cores, needed)));
  return Array.from({ length: n }, (_, i) => ({ id: i, ...sliceBounds(devices, i + 1, n) }));
}

/**
 * Moves each slice boundary forward past the rest of a gateway's children: one gateway is one
 * connection, so its children must share a shard (two shards would open two sessions of one
 * gateway device, and ThingsBoard keeps one). Slices left empty are dropped and renumbered.
 */
export function keepGatewaysWhole(slices: ShardSlice[], fleet: ReadonlyArray<{ gateway?: { name: string } }>): ShardSlice[] {
  const gw = (k: number) => fleet[k]?.gateway?.name;
  const out: ShardSlice[] = [];
  let start = 0;
  for (const s of slices) {
    let end = Math.max(s.end, start);
    while (end > 0 && end < fleet.length && gw(end) !== undefined && gw(end) === gw(end - 1)) end++;
    if (end > start) out.push({ id: out.length, start, end });
    start = end;
  }
  return out;
}
