// Which fleet workload runs each device of a run (docs/workloads.md): the rows' kinds, which the
// engine routes to one implementation each (src/engine/workload-rows.ts). Overlays (`rpc`,
// `attributes`) own no rows: they ride the `device` rows.
//
// The DEVICES fleet (tokens.json, DEVICE_COUNT) is split among the fleet workloads whose rows are
// its devices: `device` (MQTT) and `http`. A workload that shares the fleet with MQTT devices takes
// the count its own key names (`http`: HTTP_DEVICES, default half), spread evenly over the fleet
// by index, so every shard and every INSTANCE slice gets its share; alone it takes every device.
// Gateway children are rows of their own, not devices of this fleet (gateways.json, src/lab/run-fleet.ts):
// they go to `gateway` first, and the rest of the fleet is split as above.
import type { FleetDevice } from '../common/fleet.js';
import { fleetWorkloads, hasDeviceRows, type FleetWorkload, type WorkloadName } from '../common/workloads.js';

/** Fleet workloads whose rows are devices of the DEVICES fleet, besides `device` itself. */
type DeviceRowWorkload = Exclude<FleetWorkload, 'device' | 'gateway'>;
const DEVICE_ROW_WORKLOADS: readonly DeviceRowWorkload[] = ['http'];

/** How many devices each such workload takes when it shares the fleet with MQTT devices (unset: half). */
export type FleetSplit = Partial<Record<DeviceRowWorkload, number | undefined>>;

/**
 * Device `index` (1-based) of a fleet of `size` is one of `count` spread evenly over it: the
 * integer steps of index × count / size (Bresenham), so any contiguous slice holds its share.
 */
export const inEvenShare = (index: number, count: number, size: number): boolean =>
  Math.floor((index * count) / size) > Math.floor(((index - 1) * count) / size);

/**
 * The fleet with each device's workload set (absent = `device`). `fleetSize`: devices in the whole
 * fleet (INSTANCE slices see the same split); default the highest index in `fleet`.
 */
export function assignWorkloads(
  fleet: FleetDevice[],
  workloads: readonly WorkloadName[],
  split: FleetSplit = {},
  fleetSize = Math.max(1, ...fleet.map((d) => d.index)),
): FleetDevice[] {
  // a gateway's children (src/lab/gateway-fleet.ts) are the gateway workload's rows, whatever else runs
  const children = fleet.filter((d) => d.gateway).map((d) => ({ ...d, workload: 'gateway' as const }));
  if (children.length)
    return [
      ...assignWorkloads(
        fleet.filter((d) => !d.gateway),
        workloads.filter((w) => w !== 'gateway'),
        split,
        fleetSize,
      ),
      ...children,
    ];
  const kinds = fleetWorkloads(workloads);
  const others = DEVICE_ROW_WORKLOADS.filter((k) => kinds.includes(k));
  if (!others.length) return fleet;
  if (others.length > 1) throw new Error(`several fleet workloads besides device: ${others.join(', ')}`); // one today: http
  const kind = others[0];
  if (!hasDeviceRows(workloads)) return fleet.map((d) => ({ ...d, workload: kind }));
  const count = Math.min(split[kind] ?? Math.ceil(fleetSize / 2), fleetSize);
  return fleet.map((d) => (inEvenShare(d.index, count, fleetSize) ? { ...d, workload: kind } : d));
}
