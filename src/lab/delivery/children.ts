// Devices the lab knows only by name: a gateway's children, which ThingsBoard creates on their
// first `v1/gateway/connect` (src/device/mqtt-gateway.ts). Their ids come from one paged listing
// of the tenant's devices (textSearch = the names' common prefix) rather than one lookup each;
// a name the server does not have is a child that was never created: all its messages are lost.
import type { TbClient } from '../../thingsboard/client.js';
import { listDevices } from '../../thingsboard/devices.js';

/** Fills in `id` of every device that has none; returns the names the server does not have. */
export async function resolveByName(client: TbClient, devices: Array<{ name: string; id: string }>): Promise<Set<string>> {
  const unknown = devices.filter((d) => !d.id);
  if (!unknown.length) return new Set();
  const wanted = new Map(unknown.map((d) => [d.name, d]));
  for await (const d of listDevices(client, commonPrefix(unknown.map((u) => u.name)))) {
    const w = wanted.get(d.name);
    if (w) w.id = d.id.id;
  }
  return new Set(unknown.filter((d) => !d.id).map((d) => d.name));
}

/** The longest prefix every name shares (the whole name when there is one). */
export function commonPrefix(names: readonly string[]): string {
  if (!names.length) return '';
  let p = names[0];
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p;
}
