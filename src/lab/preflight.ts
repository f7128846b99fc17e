// Pre-flight of the generator itself, the limit users of load tools hit most: will this machine carry the planned
// connections? Open-file limit per shard process, ephemeral ports per source address, memory.
// Host facts are read once (Linux /proc; other systems get WARN "unknown") and judged by pure rules.
import { readFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import type { ResolvedConfig } from '../config/index.js';
import { LabError, type ErrorCode } from '../shared/errors.js';

export type Verdict = 'OK' | 'WARN' | 'FAIL';

export interface CheckLine {
  name: string;
  verdict: Verdict;
  message: string;
  /** Error code the CLI exits with when this line FAILs. */
  code?: ErrorCode;
  details?: Record<string, unknown>;
}

export interface HostFacts {
  openFilesSoft: number | null;
  openFilesHard: number | null;
  /** net.ipv4.ip_local_port_range, inclusive. */
  portRange: [number, number] | null;
  memAvailableBytes: number;
  cores: number;
}

/** Shape of the run as the engine will lay it out (shard i of N holds a contiguous slice). */
export interface ConnectionPlan {
  devices: number;
  shards: number;
  perProcess: number;
  sourceAddresses: number;
  perAddress: number;
}

/** Bytes per device connection (socket buffers, session state, timers) — measured ≈6 KB raw, budgeted with headroom. */
export const BYTES_PER_CONNECTION = 15 * 1024;
/** Bytes per shard process before any connection (V8 heap, code, buffers). */
export const BYTES_PER_PROCESS = 60 * 1024 * 1024;
/** File descriptors a shard needs besides its device sockets (logs, IPC, stdio, libuv). */
export const FD_HEADROOM = 64;
/** Connections per explicit source address before Node's bind() slows noticeably (docs/design.md#measured-design-choices). */
export const BIND_COMFORT_PER_ADDRESS = 5000;

export function readHostFacts(): HostFacts {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  };
  const limits = read('/proc/self/limits');
  const m = limits ? /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits) : null;
  const lim = (s: string | undefined) => (s === undefined ? null : s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
  const ports = read('/proc/sys/net/ipv4/ip_local_port_range')?.trim().split(/\s+/).map(Number);
  const avail = /MemAvailable:\s+(\d+) kB/.exec(read('/proc/meminfo') ?? '');
  return {
    openFilesSoft: lim(m?.[1]),
    openFilesHard: lim(m?.[2]),
    portRange: ports && ports.length === 2 && ports.every(Number.isFinite) ? [ports[0], ports[1]] : null,
    memAvailableBytes: avail ? Number(avail[1]) * 1024 : freemem(),
    cores: availableParallelism(),
  };
}

/** `devices`: this lab's share of the fleet when known (a run's selected fleet), else from DEVICE_COUNT / INSTANCE. */
export function connectionPlan(cfg: ResolvedConfig, cores: number, fleet?: number): ConnectionPlan {
  const devices = fleet ?? (cfg.instance ? Math.ceil(cfg.deviceCount / cfg.instance.count) : cfg.deviceCount);
  const shards = Math.max(cfg.shards || cores, Math.ceil(devices / cfg.maxClientsPerProcess));
  const sourceAddresses = cfg.sourceAddresses.length;
  return {
    devices,
    shards,
    perProcess: Math.ceil(devices / shards),
    sourceAddresses,
    perAddress: Math.ceil(devices / Math.max(1, sourceAddresses)),
  };
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
export function runPreflight(cfg: ResolvedConfig, devices: number, say: (line: string) => void, host: HostFacts = readHostFacts()): void {
  if (cfg.preflight === 'off') return;
  const line = openFiles(connectionPlan(cfg, host.cores, devices), host);
  if (line.verdict === 'OK') return;
  if (line.verdict === 'FAIL' && cfg.preflight === 'fail') {
    say(`[FAIL] ${line.name}: ${line.message}`);
    throw new LabError('PREFLIGHT_FAILED', {
      message: `Not started: each shard process would need more open files than its limit allows (${line.message.split(';')[0]})`,
      hint:
        'Raise the limit (ulimit -n), lower MAX_CLIENTS_PER_PROCESS (--max-clients-per-process) or DEVICE_COUNT, ' +
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
      message: `${what}${raise}; or lower MAX_CLIENTS_PER_PROCESS to ${Math.max(1, h.openFilesSoft - FD_HEADROOM)} or below`,
    };
  }
  return { ...base, verdict: need > 0.9 * h.openFilesSoft ? 'WARN' : 'OK', message: what };
}

function ports(plan: ConnectionPlan, h: HostFacts): CheckLine {
  const base = {
    name: 'ephemeral ports',
    details: { perAddress: plan.perAddress, sourceAddresses: plan.sourceAddresses, range: h.portRange },
  };
  if (!h.portRange) return { ...base, verdict: 'WARN', message: 'ephemeral port range unknown on this system' };
  const size = h.portRange[1] - h.portRange[0] + 1;
  const where = plan.sourceAddresses ? `${plan.sourceAddresses} source address(es)` : 'one source address (SOURCE_ADDRESSES empty)';
  const what = `${plan.perAddress} connections per source address over ${where}; port range ${h.portRange[0]}-${h.portRange[1]} (${size})`;
  if (plan.perAddress > size) {
    const need = Math.ceil(plan.devices / size);
    return {
      ...base,
      verdict: 'FAIL',
      code: 'PREFLIGHT_FAILED',
      message: `${what}: ports run out; use at least ${need} SOURCE_ADDRESSES (e.g. 127.0.0.2-127.0.0.${need + 1} on loopback)`,
    };
  }
  if (plan.sourceAddresses && plan.perAddress > BIND_COMFORT_PER_ADDRESS) {
    return {
      ...base,
      verdict: 'WARN',
      message: `${what}: binding slows beyond ~${BIND_COMFORT_PER_ADDRESS} per address; use ${Math.ceil(plan.devices / BIND_COMFORT_PER_ADDRESS)} addresses`,
    };
  }
  return { ...base, verdict: plan.perAddress > 0.9 * size ? 'WARN' : 'OK', message: what };
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
