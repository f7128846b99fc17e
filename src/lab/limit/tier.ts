// What gave first at a failed step (the tier), and whether a failure looks like one transient
// episode worth one retry rather than the server's limit.
import type { ObjectiveResult, StepMeasurement, Tier } from './types.js';

const failed = (objectives: readonly ObjectiveResult[], name: string) => objectives.some((o) => o.name === name && o.verdict === 'fail');

/**
 * The tier of a failed step. The lab's own shortfall wins (its numbers say nothing about the
 * server); then a named rate limit; refused or dropped connections; storage lag (ingest slow while
 * PUBACKs stay fast); server saturation (PUBACKs slow, backlog growing or messages lost without closes).
 */
export function classifyTier(m: StepMeasurement, objectives: readonly ObjectiveResult[]): Tier {
  if (m.generator.shortfall !== null || failed(objectives, 'generator_ok')) return 'generator';
  if (m.rateLimit) return 'rate-limit';
  const ackSlow = failed(objectives, 'ack_p99') || failed(objectives, 'ack_p50');
  const backlog = failed(objectives, 'backlog_growth');
  if (failed(objectives, 'connect_failure_ratio') || (failed(objectives, 'disconnect_ratio') && !ackSlow && !backlog)) return 'connections';
  if (m.connectFailures > 0 && m.connectAttempts > 0 && m.connectFailures / m.connectAttempts >= 0.01 && !ackSlow) return 'connections';
  if (failed(objectives, 'ingest_p99') && !ackSlow && !backlog) return 'storage-lag';
  if (ackSlow || backlog || failed(objectives, 'lost') || failed(objectives, 'lost_ratio')) return 'server-saturation';
  // the load was not reached and the server showed nothing: a generator that was behind is the lab's limit
  if (failed(objectives, 'reached_ratio') && m.generator.verdict !== 'ok') return 'generator';
  return 'unknown';
}

/** Objectives a stall can break; loss, rate limits and the generator are never "transient". */
const STALL_SENSITIVE = new Set(['ack_p50', 'ack_p99', 'ingest_p99', 'backlog_growth', 'disconnect_ratio']);

/**
 * A failure looks transient when only stall-sensitive objectives failed, the step has one-second
 * points, the bad seconds form a single episode, and the last third of the hold was healthy
 * (PUBACK p99 within the bound and the in-flight count not growing): one stall, then recovery.
 */
export function looksTransient(m: StepMeasurement, objectives: readonly ObjectiveResult[]): boolean {
  const bad = objectives.filter((o) => o.verdict === 'fail');
  if (bad.length === 0 || m.rateLimit || m.generator.shortfall !== null) return false;
  if (!bad.every((o) => STALL_SENSITIVE.has(o.name))) return false;
  const secs = m.seconds;
  if (!secs || secs.length < 6) return false;
  const ackBound = objectives.find((o) => o.name === 'ack_p99')?.limit ?? Infinity;
  const isBad = (s: NonNullable<StepMeasurement['seconds']>[number]) => (s.ackP99Ms ?? 0) >= ackBound || s.disconnects > 0;
  let episodes = 0;
  for (let i = 0; i < secs.length; i++) if (isBad(secs[i]) && (i === 0 || !isBad(secs[i - 1]))) episodes++;
  if (episodes > 1) return false;
  const tail = secs.slice(Math.floor((secs.length * 2) / 3));
  if (tail.some(isBad)) return false;
  const first = tail[0].inFlight;
  const last = tail[tail.length - 1].inFlight;
  return first === null || last === null || last <= Math.max(first, 0) * 1.1 + 1;
}

/** What to change when the lab, not the server, was the limit. */
export function labRemedy(m: StepMeasurement): string {
  switch (m.generator.shortfall) {
    case 'open-files':
      return 'raise the open-files limit (ulimit -n) or lower MAX_CLIENTS_PER_PROCESS, or split the fleet over instances (--instance i/N)';
    case 'ports':
      return 'spread connections over more source addresses (SOURCE_ADDRESSES) or more instances (--instance i/N)';
    case 'shard-crashed':
      return 'read the shard log in data/logs/; then add shards (SHARDS) or split the fleet over instances (--instance i/N)';
    default:
      return 'add shard processes (SHARDS, at most one per free core) or run more instances on more machines (--instance i/N)';
  }
}
