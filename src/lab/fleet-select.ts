// Which devices a fleet-control command acts on: --all, --devices a,b, --prefix p, resolved to
// name + id from tokens.json first and from the server only for what the file does not know.
import type { ResolvedConfig } from '../config/index.js';
import { LabError } from '../common/errors.js';
import type { TbClient } from '../thingsboard/client.js';
import { findDeviceByName } from '../thingsboard/devices.js';
import { readTokenFile, fleetFromTokenFile } from './fleet-file.js';
import { compareNames, fleetNamePattern, listFleetOnServer } from './fleet-server.js';
import { redactUrl } from '../common/redact.js';

export interface DeviceSelection {
  /** Every device of tokens.json (or, without one, every DEVICE_PREFIX-N device on the server). */
  all?: boolean;
  /** Exact device names. */
  devices?: string[];
  /** Every `<prefix>-N` device. */
  prefix?: string;
}

export interface SelectedDevice {
  name: string;
  id: string;
}

/** Resolves a selection; `client()` is only called when the server must be asked. Sorted by name. */
export async function selectDevices(cfg: ResolvedConfig, sel: DeviceSelection, client: () => Promise<TbClient>): Promise<SelectedDevice[]> {
  if (!sel.all && !sel.devices?.length && !sel.prefix) {
    throw new LabError('USAGE', { message: 'Say which devices: --all, --devices a,b or --prefix <prefix>' });
  }
  const tf = readTokenFile(cfg.dataDir);
  const known = new Map((tf ? fleetFromTokenFile(tf) : []).map((d) => [d.name, d.id]));
  const out = new Map<string, string>();

  const byPrefix = async (prefix: string) => {
    const re = fleetNamePattern(prefix);
    const fromFile = [...known].filter(([n]) => re.test(n));
    if (tf && tf.prefix === prefix) for (const [n, id] of fromFile) out.set(n, id);
    else for (const [n, d] of await listFleetOnServer(await client(), prefix)) out.set(n, d.id.id);
  };
  if (sel.all) await byPrefix(tf ? tf.prefix : cfg.devicePrefix);
  if (sel.prefix) await byPrefix(sel.prefix);
  for (const name of sel.devices ?? []) {
    const id = known.get(name);
    if (id) {
      out.set(name, id);
      continue;
    }
    const d = await findDeviceByName(await client(), name);
    if (!d) {
      const message = `No device named ${JSON.stringify(name)} on ${redactUrl(cfg.tbUrl)} (and not in tokens.json)`;
      throw new LabError('NOT_FOUND', { message });
    }
    out.set(name, d.id.id);
  }
  return [...out].map(([name, id]) => ({ name, id })).sort((a, b) => compareNames(a.name, b.name));
}
