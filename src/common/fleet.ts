// Wire types of the fleet: what `provision` writes to data/provisioning/tokens.json and what
// the engine receives per device. The file format accepts the three ThingsBoard credential types
// (ACCESS_TOKEN, MQTT_BASIC, X509_CERTIFICATE: docs/thingsboard-behaviour.md#devices), even though provisioning creates access tokens.
import type { FleetWorkload } from './workloads.js';

export type DeviceCredentials =
  | { type: 'ACCESS_TOKEN'; token: string }
  | { type: 'MQTT_BASIC'; clientId: string | null; username: string | null; password: string | null }
  | { type: 'X509_CERTIFICATE'; certFile: string; keyFile: string };

export interface FleetDevice {
  /** `<prefix>-NNN` (a gateway's child: `<prefix>-gNNN-dNNNN`) */
  name: string;
  /** 1-based index in the fleet (the NNN). */
  index: number;
  /** ThingsBoard device UUID ('' for a gateway's child: ThingsBoard creates it on first use). */
  id: string;
  /** A device's own credentials; a gateway child's are those of its gateway. */
  credentials: DeviceCredentials;
  /** The fleet workload that runs this device (absent: `device`); set by the lab for a run, not stored. */
  workload?: FleetWorkload;
  /** A gateway's child: the gateway that carries it (src/device/mqtt-gateway.ts). */
  gateway?: GatewayRef;
  /** Offset of the device's publish slot in the interval, 0..1 (default: spread by index over the fleet). */
  phase?: number;
}

/** The gateway device a child row rides on: its name and 1-based index among the gateways. */
export interface GatewayRef {
  name: string;
  index: number;
}

/** data/provisioning/tokens.json (mode 0600, atomic writes). */
export interface TokenFile {
  version: 1;
  /** REST base URL the fleet was provisioned on. */
  server: string;
  prefix: string;
  deviceProfileId: string | null;
  updatedAt: string;
  devices: Record<string, Omit<FleetDevice, 'name'>>;
}

/** `sim-007`: zero-padded to at least 3 digits. */
export function deviceName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(3, '0')}`;
}

/**
 * Deterministic slice `index/count` (1-based index) of an ordered fleet: contiguous ranges whose
 * sizes differ by at most one. Every device falls in exactly one slice, no coordinator needed.
 */
export function sliceBounds(total: number, index: number, count: number): { start: number; end: number } {
  const base = Math.floor(total / count);
  const extra = total % count;
  const i = index - 1;
  const start = i * base + Math.min(i, extra);
  return { start, end: start + base + (i < extra ? 1 : 0) };
}

/** One lab instance's place among several that split a fleet: `index` of `count`, 1-based. */
export interface InstanceId {
  index: number;
  count: number;
}

/** Parses `i/N` (1 ≤ i ≤ N, e.g. `2/4`); null when the text has another form. */
export function parseInstance(text: string): InstanceId | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index >= 1 && index <= count ? { index, count } : null;
}

/** `2/4`: the form reports, metrics labels and `--instance` use. */
export const instanceLabel = (i: InstanceId): string => `${i.index}/${i.count}`;

/** `-i2of4`: what an instance appends to its run id (reports, logs and metrics files are named by it). */
export const instanceSuffix = (i: InstanceId | null | undefined): string => (i ? `-i${i.index}of${i.count}` : '');

/** The id all instances of one fleet run share: the run id without its `-i<i>of<N>` suffix. */
export const fleetRunId = (runId: string): string => runId.replace(/-i\d+of\d+$/, '');
