// The connection plan: how the lab lays out the connections of a run on this machine — shard
// processes (each below the open-file limit), source addresses (each below bind()'s comfort and its
// ephemeral ports) and MQTT endpoints (device i on endpoint (i − 1) mod K). Planned from the fleet
// size and the host's facts unless the configuration says otherwise; `tblab check` prints it, the
// pre-flight judges it (preflight.ts) and the run uses it (pipeline/start.ts), so all three agree.
import { readFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import type { ResolvedConfig } from '../config/index.js';
import { planShards } from '../engine/plan.js';
import { devicesPerEndpoint, endpointLabel, targetEndpoints } from '../common/endpoints.js';
import { sliceBounds } from '../common/fleet.js';

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
  /** Connections of the largest shard. */
  perProcess: number;
  /** Most connections one shard may hold: MAX_CLIENTS_PER_PROCESS, or (0 = auto) what the open-file limit leaves. */
  maxPerProcess: number;
  /** Why `maxPerProcess`: set by the key, the default cap, or lowered to fit the open-file limit. */
  maxPerProcessFrom: 'MAX_CLIENTS_PER_PROCESS' | 'default' | 'open files';
  /** The source addresses the run binds to: SOURCE_ADDRESSES, or planned for a loopback target. */
  addresses: string[];
  /** `addresses` were planned here (SOURCE_ADDRESSES empty), not configured. */
  addressesPlanned: boolean;
  sourceAddresses: number;
  perAddress: number;
  /** Devices of this run per MQTT endpoint. */
  endpoints: Array<{ endpoint: string; devices: number }>;
  /**
   * Most connections drawing on one ephemeral port range: per source address when bound (Node
   * binds before it connects, so a port is taken on the address whatever the destination), else
   * the devices of the busiest endpoint (the kernel picks ports per destination).
   */
  perPortRange: number;
}

/** Bytes per device connection (socket buffers, session state, timers) — measured ≈6 KB raw, budgeted with headroom. */
export const BYTES_PER_CONNECTION = 15 * 1024;
/** Bytes per shard process before any connection (V8 heap, code, buffers). */
export const BYTES_PER_PROCESS = 60 * 1024 * 1024;
/** File descriptors a shard needs besides its device sockets (logs, IPC, stdio, libuv). */
export const FD_HEADROOM = 64;
/** Connections per explicit source address before Node's bind() slows noticeably (docs/design.md#measured-design-choices). */
export const BIND_COMFORT_PER_ADDRESS = 5000;
/** Most connections per shard when MAX_CLIENTS_PER_PROCESS is 0 (auto) and the open-file limit allows more. */
export const DEFAULT_MAX_PER_PROCESS = 15_000;
/** Addresses one instance may plan: 127.0.<instance − 1>.2 … .254. */
const MAX_PLANNED_ADDRESSES = 253;

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

const isLoopbackV4 = (host: string) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/**
 * The plan for `fleet` (this lab's devices, by fleet index) or, when not given, for this lab's
 * slice of DEVICE_COUNT (INSTANCE i/N).
 */
export function connectionPlan(cfg: ResolvedConfig, host: HostFacts, fleet?: readonly { index: number }[]): ConnectionPlan {
  const indices = fleet ? fleet.map((d) => d.index) : sliceIndices(cfg);
  const devices = indices.length;
  const { maxPerProcess, maxPerProcessFrom } = perProcessCap(cfg, host);
  const shards = planShards(devices, cfg.shards, maxPerProcess, host.cores).length;
  const endpoints = targetEndpoints(cfg);
  const perEndpoint = devicesPerEndpoint(indices, endpoints.length);
  const planned = cfg.sourceAddresses.length === 0 && endpoints.every((e) => isLoopbackV4(e.host)) && devices > BIND_COMFORT_PER_ADDRESS;
  const addresses = planned
    ? loopbackAddresses(Math.ceil(devices / BIND_COMFORT_PER_ADDRESS), cfg.instance?.index ?? 1)
    : [...cfg.sourceAddresses];
  const perAddress = Math.ceil(devices / Math.max(1, addresses.length));
  return {
    devices,
    shards,
    perProcess: Math.ceil(devices / shards),
    maxPerProcess,
    maxPerProcessFrom,
    addresses,
    addressesPlanned: planned,
    sourceAddresses: addresses.length,
    perAddress,
    endpoints: endpoints.map((e, k) => ({ endpoint: endpointLabel(e), devices: perEndpoint[k] })),
    perPortRange: addresses.length ? perAddress : Math.max(0, ...perEndpoint),
  };
}

/** The fleet indices of this lab's slice of DEVICE_COUNT. */
function sliceIndices(cfg: ResolvedConfig): number[] {
  const { start, end } = cfg.instance
    ? sliceBounds(cfg.deviceCount, cfg.instance.index, cfg.instance.count)
    : { start: 0, end: cfg.deviceCount };
  return Array.from({ length: end - start }, (_, k) => start + k + 1);
}

function perProcessCap(cfg: ResolvedConfig, host: HostFacts): Pick<ConnectionPlan, 'maxPerProcess' | 'maxPerProcessFrom'> {
  if (cfg.maxClientsPerProcess > 0) return { maxPerProcess: cfg.maxClientsPerProcess, maxPerProcessFrom: 'MAX_CLIENTS_PER_PROCESS' };
  // within 90 % of the limit, where the pre-flight starts to warn
  const fits = host.openFilesSoft === null ? Infinity : Math.floor(0.9 * host.openFilesSoft) - FD_HEADROOM;
  if (fits < DEFAULT_MAX_PER_PROCESS) return { maxPerProcess: Math.max(1, fits), maxPerProcessFrom: 'open files' };
  return { maxPerProcess: DEFAULT_MAX_PER_PROCESS, maxPerProcessFrom: 'default' };
}

/**
 * `n` loopback source addresses for instance `instance`: 127.0.<instance − 1>.2, .3, … (all of
 * 127.0.0.0/8 is local on Linux), so instances on one machine never share an address.
 */
export function loopbackAddresses(n: number, instance: number): string[] {
  const net = `127.0.${(instance - 1) % 256}.`;
  return Array.from({ length: Math.min(n, MAX_PLANNED_ADDRESSES) }, (_, k) => `${net}${k + 2}`);
}

/** One line for people: `7 shard processes (≤ 14,286 connections each), 20 source addresses …, 3 endpoints …`. */
export function describePlan(p: ConnectionPlan, host: HostFacts): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const cap =
    p.maxPerProcessFrom === 'MAX_CLIENTS_PER_PROCESS'
      ? `MAX_CLIENTS_PER_PROCESS ${n(p.maxPerProcess)}`
      : p.maxPerProcessFrom === 'open files'
        ? `at most ${n(p.maxPerProcess)}: 90 % of the open-file limit ${n(host.openFilesSoft ?? 0)} − ${FD_HEADROOM}`
        : `at most ${n(p.maxPerProcess)}`;
  const shards = `${n(p.devices)} devices → ${p.shards} shard process(es) of ≤ ${n(p.perProcess)} connections (${cap})`;
  const range = (a: string[]) => (a.length > 2 ? `${a[0]}–${a[a.length - 1]}` : a.join(', '));
  const addrs = p.addresses.length
    ? `${p.addresses.length} source address(es) ${range(p.addresses)}, ≤ ${n(p.perAddress)} each` +
      (p.addressesPlanned ? ` (planned: loopback target, SOURCE_ADDRESSES empty)` : ' (SOURCE_ADDRESSES)')
    : 'no source address bound (the kernel picks the ports)';
  const ends =
    p.endpoints.length > 1
      ? `${p.endpoints.length} MQTT endpoints: ${p.endpoints.map((e) => `${e.endpoint} ${n(e.devices)}`).join(', ')}`
      : `MQTT endpoint ${p.endpoints[0].endpoint}`;
  return `${shards}; ${addrs}; ${ends}`;
}
