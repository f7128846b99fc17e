// The devices of a run, by workload (docs/workloads.md): the MQTT/HTTP devices of tokens.json
// (DEVICE_COUNT, sliced for INSTANCE) and the gateway workload's children of gateways.json
// (GATEWAYS × GATEWAY_CHILDREN, sliced by gateway). Which fleet workload runs each row is
// assigned at the run's start (src/lab/workload-fleet.ts).
import type { ResolvedConfig } from '../config/index.js';
import { LabError } from '../common/errors.js';
import { sliceBounds, type FleetDevice } from '../common/fleet.js';
import { fleetWorkloads } from '../common/workloads.js';
import { fleetFromTokenFile, readTokenFile, tokensPath } from './fleet-file.js';
import { gatewayFleet, gatewaysPath, readGatewayFile } from './gateway-fleet.js';

/** The devices of this run: the first DEVICE_COUNT of tokens.json, sliced for INSTANCE. */
export function selectFleet(config: ResolvedConfig, all: FleetDevice[], source: string): { fleet: FleetDevice[]; fleetSize: number } {
  if (all.length < config.deviceCount) {
    throw new LabError('NO_FLEET', {
      message: `${source} has ${all.length} device(s) named ${config.devicePrefix}-NNN but DEVICE_COUNT is ${config.deviceCount}`,
      hint: 'Run `tblab provision` for the full count, or lower DEVICE_COUNT (--devices).',
    });
  }
  const fleet = all.slice(0, config.deviceCount);
  if (!config.instance) return { fleet, fleetSize: fleet.length };
  const { start, end } = sliceBounds(fleet.length, config.instance.index, config.instance.count);
  return { fleet: fleet.slice(start, end), fleetSize: fleet.length };
}

/** Whether the run has `tokens.json` devices (device, http, or an overlay riding them) and gateways. */
export function fleetParts(config: ResolvedConfig): { devices: boolean; gateways: boolean } {
  const gateways = fleetWorkloads(config.workloads).includes('gateway');
  // an rpc workload calling only the children needs no device sessions of its own
  const ridesDevices = (w: string) => w !== 'gateway' && !(w === 'rpc' && config.rpcTargets === 'children');
  return { devices: !gateways || config.workloads.some(ridesDevices), gateways };
}

export interface RunFleet {
  fleet: FleetDevice[];
  /** Devices of the whole fleet for the phase spread (the devices'; children have their gateway's slot). */
  fleetSize: number;
}

export function runFleet(config: ResolvedConfig): RunFleet {
  const parts = fleetParts(config);
  let devices: { fleet: FleetDevice[]; fleetSize: number } = { fleet: [], fleetSize: 0 };
  if (parts.devices) {
    const t = readTokenFile(config.dataDir);
    if (!t) throw new LabError('NO_FLEET', { message: `No token file at ${tokensPath(config.dataDir)}` });
    devices = selectFleet(config, fleetFromTokenFile(t, config.devicePrefix), tokensPath(config.dataDir));
  }
  if (!parts.gateways) return devices;
  const g = gatewayFleet(readGatewayFile(config.dataDir), {
    prefix: config.devicePrefix,
    gateways: config.gateways,
    children: config.gatewayChildren,
    instance: config.instance ?? null,
    source: gatewaysPath(config.dataDir),
    // children are numbered after the devices, so every row of a mixed run has its own index
    indexBase: parts.devices ? config.deviceCount : 0,
  });
  return {
    fleet: [...devices.fleet, ...g.fleet],
    fleetSize: parts.devices ? devices.fleetSize : g.fleetSize,
  };
}
