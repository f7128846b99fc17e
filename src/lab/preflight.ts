// Pre-flight of the generator itself, the limit users of load tools hit most: will this machine carry the planned
// connections (connection-plan.ts)? Open-file limit per shard process, ephemeral ports per source address and
// endpoint, memory. Host facts are read once (Linux /proc; other systems get WARN "unknown") and judged by pure rules.
import type { ResolvedConfig } from '../config/index.js';
import { LabError, type ErrorCode } from '../common/errors.js';
import {
  BIND_COMFORT_PER_ADDRESS,
  BYTES_PER_CONNECTION,
  BYTES_PER_PROCESS,
  FD_HEADROOM,
  connectionPlan,
  readHostFacts,
  type ConnectionPlan,
  type HostFacts,
} from './connection-plan.js';

export { BIND_COMFORT_PER_ADDRESS, BYTES_PER_CONNECTION, BYTES_PER_PROCESS, FD_HEADROOM, connectionPlan, readHostFacts };
export type { ConnectionPlan, HostFacts };

export type Verdict = 'OK' | 'WARN' | 'FAIL';

export interface CheckLine {
  name: string;
  verdict: Verdict;
  message: string;
  /** Error code the CLI exits with when this line FAILs. */
  code?: ErrorCode;
  details?: Record<string, unknown>;
}

const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;

export function preflight(plan: ConnectionPlan, host: HostFacts): CheckLine[] {
  return [openFiles(plan, host), ports(plan, host), memory(plan, host)];
}

/**
 * `tblab run`'s pre-flight, before any connection: the open-file check of `tblab check` for this run's
 * shard plan. Past the limit every further connect fails with EMFILE, so PREFLIGHT=fail (the default)
 * refuses the run; `warn` prints the verdict and runs (EMFILE is then counted as the connects' cause).
 */
export function runPreflight(
  cfg: ResolvedConfig,
  fleet: readonly { index: number }[],
  say: (line: string) => void,
  host: HostFacts = readHostFacts(),
): void {
  if (cfg.preflight === 'off') return;
  const line = openFiles(connectionPlan(cfg, host, fleet), host);
  if (line.verdict === 'OK') return;
  if (line.verdict === 'FAIL' && cfg.preflight === 'fail') {
    say(`[FAIL] ${line.name}: ${line.message}`);
    throw new LabError('PREFLIGHT_FAILED', {
      message: `Not started: each shard process would need more open files than its limit allows (${line.message.split(';')[0]})`,
      hint:
        'Raise the limit (ulimit -n), lower MAX_CLIENTS_PER_PROCESS (--max-clients-per-process; 0 = planned from the limit) or DEVICE_COUNT, ' +
        'or run anyway with PREFLIGHT=warn (--preflight warn): connects past the limit then fail with EMFILE.',
      details: line.details,
    });
  }
  const anyway = line.verdict === 'FAIL' ? ' (PREFLIGHT=warn: running anyway; connects past the limit fail with EMFILE)' : '';
  say(`warning: ${line.name}: ${line.message}${anyway}`);
}

function openFiles(plan: ConnectionPlan, h: HostFacts): CheckLine {
  const need = plan.perProcess + FD_HEADROOM;
  const base = {
    name: 'open files',
    details: { perProcess: plan.perProcess, shards: plan.shards, need, soft: h.openFilesSoft, hard: h.openFilesHard },
  };
  if (h.openFilesSoft === null)
    return { ...base, verdict: 'WARN', message: `open-file limit unknown on this system; each of ${plan.shards} shard(s) needs ~${need}` };
  const what = `${plan.perProcess} connections per process × ${plan.shards} shard(s) need ~${need} open files; limit ${h.openFilesSoft}`;
  if (need > h.openFilesSoft) {
    const raise = h.openFilesHard !== null && need <= h.openFilesHard ? ` (raise it: ulimit -n ${h.openFilesHard})` : '';
    return {
      ...base,
      verdict: 'FAIL',
      code: 'PREFLIGHT_FAILED',
      message: `${what}${raise}; or lower MAX_CLIENTS_PER_PROCESS to ${Math.max(1, h.openFilesSoft - FD_HEADROOM)} or below (0 = planned from the limit)`,
    };
  }
  return { ...base, verdict: need > 0.9 * h.openFilesSoft ? 'WARN' : 'OK', message: what };
}

function ports(plan: ConnectionPlan, h: HostFacts): CheckLine {
  const base = {
    name: 'ephemeral ports',
    details: {
      perAddress: plan.perAddress,
      sourceAddresses: plan.sourceAddresses,
      perPortRange: plan.perPortRange,
      endpoints: plan.endpoints.length,
      range: h.portRange,
    },
  };
  if (!h.portRange) return { ...base, verdict: 'WARN', message: 'ephemeral port range unknown on this system' };
  const size = h.portRange[1] - h.portRange[0] + 1;
  const k = plan.endpoints.length;
  // bound: a port is taken on the address whatever the destination; unbound: ports are per destination
  const where = plan.sourceAddresses
    ? `${plan.perAddress} connections per source address over ${plan.sourceAddresses} source address(es)`
    : `${plan.perPortRange} connections to ${k > 1 ? `the busiest of ${k} endpoints` : 'the endpoint'} from one source address (SOURCE_ADDRESSES empty)`;
  const what = `${where}; port range ${h.portRange[0]}-${h.portRange[1]} (${size})`;
  if (plan.perPortRange > size) {
    const need = Math.ceil(plan.devices / Math.min(size, BIND_COMFORT_PER_ADDRESS));
    return {
      ...base,
      verdict: 'FAIL',
      code: 'PREFLIGHT_FAILED',
      message: `${what}: ports run out; use at least ${need} SOURCE_ADDRESSES (e.g. 127.0.0.2-127.0.0.${need + 1} on loopback, IP aliases on a NIC)`,
    };
  }
  if (plan.sourceAddresses && plan.perAddress > BIND_COMFORT_PER_ADDRESS) {
    return {
      ...base,
      verdict: 'WARN',
      message: `${what}: binding slows beyond ~${BIND_COMFORT_PER_ADDRESS} per address; use ${Math.ceil(plan.devices / BIND_COMFORT_PER_ADDRESS)} addresses`,
    };
  }
  return { ...base, verdict: plan.perPortRange > 0.9 * size ? 'WARN' : 'OK', message: what };
}

function memory(plan: ConnectionPlan, h: HostFacts): CheckLine {
  const need = plan.shards * BYTES_PER_PROCESS + plan.devices * BYTES_PER_CONNECTION;
  const what = `~${mb(need)} estimated for ${plan.devices} connections in ${plan.shards} process(es); ${mb(h.memAvailableBytes)} available`;
  const details = { estimatedBytes: need, availableBytes: h.memAvailableBytes };
  if (need > h.memAvailableBytes)
    return {
      name: 'memory',
      verdict: 'FAIL',
      code: 'PREFLIGHT_FAILED',
      message: `${what}: not enough memory; fewer devices or another machine (--instance)`,
      details,
    };
  return { name: 'memory', verdict: need > 0.7 * h.memAvailableBytes ? 'WARN' : 'OK', message: what, details };
}
