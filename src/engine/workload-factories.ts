// The workload implementations a shard can build, one per fleet workload (row kind): where the
// engine meets the implementations of src/device/ (the contract is src/device/workload.ts). A
// workload that becomes available (src/common/workloads.ts) adds its line here.
import type { Workload, WorkloadContext } from '../device/workload.js';
import { MqttTelemetry } from '../device/mqtt-telemetry.js';
import { HttpTelemetry } from '../device/http-telemetry.js';
import { MqttGateway } from '../device/mqtt-gateway.js';
import type { FleetWorkload } from '../common/workloads.js';
import type { ShardSettings } from './protocol.js';

export type WorkloadFactory = (ctx: WorkloadContext) => Workload;
export type WorkloadFactories = Partial<Record<FleetWorkload, WorkloadFactory>>;

export function workloadFactories(settings: ShardSettings): WorkloadFactories {
  return {
    device: (ctx) => new MqttTelemetry(ctx, settings, ctx.overlays),
    http: (ctx) => new HttpTelemetry(ctx, settings),
    gateway: (ctx) => new MqttGateway(ctx, settings),
  };
}
