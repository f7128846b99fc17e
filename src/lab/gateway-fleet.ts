// The gateway workload's fleet: gateway devices `<prefix>-gNNN` (provisioned, credentials in
// provisioning/gateways.json, the token file's format) and their children `<prefix>-gNNN-dNNNN`,
// which only exist on the server once a gateway has connected them. The run's rows are the
// children; each carries its gateway's credentials and shares its gateway's publish slot.
import { join } from 'node:path';
import { LabError } from '../common/errors.js';
import { writeJsonAtomic } from '../common/fs.js';
import { sliceBounds, type FleetDevice, type TokenFile } from '../common/fleet.js';
import { readCredentialsFile } from './fleet-file.js';

export const gatewaysPath = (dataDir: string) => join(dataDir, 'provisioning', 'gateways.json');

/** `sim-g007`: zero-padded to at least 3 digits. */
export const gatewayName = (prefix: string, g: number): string => `${prefix}-g${String(g).padStart(3, '0')}`;

/** `sim-g007-d0042`: the child's number zero-padded to at least 4 digits. */
export const childName = (prefix: string, g: number, c: number): string => `${gatewayName(prefix, g)}-d${String(c).padStart(4, '0')}`;

/** `^<prefix>-g(\d+)$`: the names of a fleet's gateways. */
export function gatewayNamePattern(prefix: string): RegExp {
  return new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-g(\\d+)$`);
}

export function readGatewayFile(dataDir: string): TokenFile | null {
  return readCredentialsFile(gatewaysPath(dataDir), {
    file: 'gateway file',
    entry: 'gateway',
    hint: 'Re-run `tblab provision --workload gateway` to rewrite it from what the server has.',
  });
}

export function writeGatewayFile(dataDir: string, t: TokenFile): void {
  writeJsonAtomic(gatewaysPath(dataDir), t, { mode: 0o600 });
}

export interface GatewayFleet {
  /** This instance's children, gateway by gateway (the run's rows). */
  fleet: FleetDevice[];
  /** Children in the whole fleet (every instance). */
  fleetSize: number;
  /** This instance's gateways. */
  gateways: FleetDevice[];
}

/**
 * The children of the first `gateways` gateways on file, `children` each, sliced by gateway for
 * `instance` (a gateway is one connection: never split). Child k of gateway g has fleet index
 * (g − 1) × children + k and the slot offset (g − 1) / gateways of the interval.
 */
export function gatewayFleet(
  file: TokenFile | null,
  o: {
    prefix: string;
    gateways: number;
    children: number;
    instance: { index: number; count: number } | null;
    source: string;
    /** Added to every child's index (the devices of a mixed run come first). */
    indexBase?: number;
  },
): GatewayFleet {
  const byIndex = new Map<number, FleetDevice>();
  const re = gatewayNamePattern(o.prefix);
  for (const [name, d] of Object.entries(file?.devices ?? {})) if (re.test(name)) byIndex.set(d.index, { name, ...d });
  const missing: number[] = [];
  for (let g = 1; g <= o.gateways; g++) if (!byIndex.has(g)) missing.push(g);
  if (missing.length) {
    throw new LabError('NO_FLEET', {
      message: `${o.source} lacks ${missing.length} of the ${o.gateways} gateway(s) ${o.prefix}-gNNN (e.g. ${gatewayName(o.prefix, missing[0])})`,
      hint: 'Run `tblab provision --workload gateway` for GATEWAYS (--gateways), or lower GATEWAYS.',
    });
  }
  const { start, end } = o.instance ? sliceBounds(o.gateways, o.instance.index, o.instance.count) : { start: 0, end: o.gateways };
  const gateways: FleetDevice[] = [];
  const fleet: FleetDevice[] = [];
  for (let g = start + 1; g <= end; g++) {
    const gw = byIndex.get(g)!;
    gateways.push(gw);
    const gateway = { name: gw.name, index: g };
    const phase = (g - 1) / o.gateways;
    for (let c = 1; c <= o.children; c++) {
      const name = childName(o.prefix, g, c);
      fleet.push({ name, index: (o.indexBase ?? 0) + (g - 1) * o.children + c, id: '', credentials: gw.credentials, gateway, phase });
    }
  }
  return { fleet, fleetSize: o.gateways * o.children, gateways };
}
