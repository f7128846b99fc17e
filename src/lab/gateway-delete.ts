// What `tblab delete` removes of the gateway workload: the gateways `<prefix>-gNNN` and the
// children `<prefix>-gNNN-dNNNN` ThingsBoard created for them (not in devices.csv: the children
// exist only on the server). By manifest, only when provisioning/gateways.json says there are
// gateways; by --prefix, whatever the tenant has under that prefix.
import { unlinkSync } from 'node:fs';
import type { TbClient } from '../thingsboard/client.js';
import { listDevices } from '../thingsboard/devices.js';
import { gatewaysPath, readGatewayFile, writeGatewayFile } from './gateway-fleet.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The gateways and their children on the server (`prefix` given: by name alone; else the gateway file's fleet). */
export async function gatewayTargets(client: TbClient, dataDir: string, prefix: string | null): Promise<{ name: string; id: string }[]> {
  const p = prefix ?? readGatewayFile(dataDir)?.prefix;
  if (!p) return [];
  const re = new RegExp(`^${escape(p)}-g\\d+(-d\\d+)?$`);
  const out: { name: string; id: string }[] = [];
  for await (const d of listDevices(client, `${p}-g`)) if (re.test(d.name)) out.push({ name: d.name, id: d.id.id });
  return out;
}

/** Drops deleted gateways from gateways.json (the file goes with the last one). */
export function forgetGateways(dataDir: string, gone: ReadonlySet<string>): void {
  const f = readGatewayFile(dataDir);
  if (!f || !Object.keys(f.devices).some((n) => gone.has(n))) return;
  for (const n of gone) delete f.devices[n];
  if (Object.keys(f.devices).length === 0) unlinkSync(gatewaysPath(dataDir));
  else writeGatewayFile(dataDir, { ...f, updatedAt: new Date().toISOString() });
}
