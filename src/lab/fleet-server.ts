// The fleet as the server sees it: every tenant device named `<prefix>-<digits>`, found by one
// paged listing (textSearch = prefix) instead of one lookup per device.
import type { TbClient } from '../thingsboard/client.js';
import { listDevices } from '../thingsboard/devices.js';
import type { TbDevice } from '../thingsboard/types.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `^<prefix>-(\d+)$` — the names that belong to a fleet. */
export function fleetNamePattern(prefix: string): RegExp {
  return new RegExp(`^${escape(prefix)}-(\\d+)$`);
}

/** Devices of the fleet `prefix` on the server, by name. */
export async function listFleetOnServer(c: TbClient, prefix: string): Promise<Map<string, TbDevice>> {
  const re = fleetNamePattern(prefix);
  const out = new Map<string, TbDevice>();
  for await (const d of listDevices(c, `${prefix}-`)) if (re.test(d.name)) out.set(d.name, d);
  return out;
}

/** Name order with numbers compared by value: sim-999 before sim-1000. */
export const compareNames = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });
