// The workloads a run can mix (issue 16): their names, what each is, and whether this build has it.
// One list, read by the configuration (WORKLOADS, --workload, a scenario's `workloads`), the lab
// (which rows a workload owns), the engine (one implementation per row kind) and the metrics
// (src/metrics/workload-stats.ts: what each reports). docs/workloads.md explains them.
//
// A *fleet* workload owns rows (simulated devices, one line of the report each): the shard routes
// a row's calls to that workload's implementation. An *overlay* workload owns no rows: it acts on
// the MQTT devices' connections (the `device` rows' sessions).

export const WORKLOAD_NAMES = ['device', 'gateway', 'rpc', 'attributes', 'http'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** The workloads that own rows; a row's kind is one of these. */
export type FleetWorkload = 'device' | 'gateway' | 'http';

export interface WorkloadInfo {
  role: 'fleet' | 'overlay';
  /** One line for flags' help and the docs. */
  summary: string;
}

export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadInfo>> = {
  device: { role: 'fleet', summary: 'one MQTT connection per device, telemetry on schedule' },
  gateway: { role: 'fleet', summary: 'gateway connections, each carrying many child devices (v1/gateway/*)' },
  rpc: { role: 'overlay', summary: 'server-side RPC through REST, answered by the MQTT devices' },
  attributes: { role: 'overlay', summary: 'shared attributes written through REST, pushed to the MQTT devices' },
  http: { role: 'fleet', summary: 'telemetry over HTTP (POST /api/v1/{token}/telemetry), keep-alive pool' },
};

export const isWorkloadName = (s: string): s is WorkloadName => (WORKLOAD_NAMES as readonly string[]).includes(s);

/** The run has MQTT device rows: `device` is listed, or an overlay, which rides the `device` rows' sessions. */
export const hasDeviceRows = (names: readonly WorkloadName[]): boolean =>
  names.includes('device') || names.some((n) => WORKLOADS[n].role === 'overlay');

/** The fleet workloads among `names`, in registry order. */
export const fleetWorkloads = (names: readonly WorkloadName[]): FleetWorkload[] =>
  WORKLOAD_NAMES.filter((n): n is FleetWorkload => WORKLOADS[n].role === 'fleet' && names.includes(n));
