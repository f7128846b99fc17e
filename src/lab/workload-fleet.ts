// Which fleet workload runs each device of a run (docs/workloads.md): the rows' kinds, which the
// engine routes to one implementation each (src/engine/workload-rows.ts). One fleet workload owns
// every row; overlays alone (`rpc`, `attributes`) ride `device` rows. Mixing fleet workloads
// splits the fleet by each one's own key (`http`: HTTP_DEVICES, `gateway`: its own child devices):
// the workload that adds a split adds it here.
import { LabError } from '../shared/errors.js';
import type { FleetDevice } from '../shared/fleet.js';
import { fleetWorkloads, type WorkloadName } from '../shared/workloads.js';

export function assignWorkloads(fleet: FleetDevice[], workloads: readonly WorkloadName[]): FleetDevice[] {
  // a gateway's children (src/lab/gateway-fleet.ts) are the gateway workload's rows, whatever else runs
  const children = fleet.filter((d) => d.gateway).map((d) => ({ ...d, workload: 'gateway' as const }));
  if (children.length)
    return [
      ...assignWorkloads(
        fleet.filter((d) => !d.gateway),
        workloads.filter((w) => w !== 'gateway'),
      ),
      ...children,
    ];
  const kinds = fleetWorkloads(workloads);
  const only = kinds.length ? kinds : (['device'] as const);
  if (only.length === 1) return only[0] === 'device' ? fleet : fleet.map((d) => ({ ...d, workload: only[0] }));
  throw new LabError('CONFIG_INVALID', {
    message: `WORKLOADS=${workloads.join(',')}: this build cannot split one fleet between ${kinds.join(' and ')} yet`,
  });
}
