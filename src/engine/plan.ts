// The shard plan: how many shard processes and which contiguous slice of the fleet each takes.
// Deterministic, so several machines (INSTANCE i/N) and shards never need a coordinator.
import { availableParallelism } from 'node:os';
import { sliceBounds } from '../shared/fleet.js';

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
