// The fleet and interval the lab runs in a benchmark: generated access tokens (mosquitto accepts
// any username) and the interval that gives a scenario's per-device rate.
import { deviceName, type FleetDevice } from '../../src/common/fleet.js';
import type { GenSpec } from './protocol.js';

/** Idle scenarios: the longest interval the config allows, so a device publishes about never. */
const IDLE_INTERVAL_SEC = 86_400;
/** Flat out: the shortest interval the config allows; the engine then sends whenever a socket takes it. */
const FLAT_OUT_INTERVAL_SEC = 0.001;

export const BENCH_PREFIX = 'bench';

export function benchFleet(n: number): FleetDevice[] {
  return Array.from({ length: n }, (_, k) => ({
    name: deviceName(BENCH_PREFIX, k + 1),
    index: k + 1,
    id: `00000000-0000-4000-8000-${String(k + 1).padStart(12, '0')}`,
    credentials: { type: 'ACCESS_TOKEN', token: `bench-token-${k + 1}` },
  }));
}

/** `gateways` × `children` child rows of the gateway workload (mosquitto accepts any gateway token). */
export function benchGatewayFleet(gateways: number, children: number): FleetDevice[] {
  const out: FleetDevice[] = [];
  for (let g = 1; g <= gateways; g++) {
    const gateway = { name: `${BENCH_PREFIX}-g${String(g).padStart(3, '0')}`, index: g };
    const credentials = { type: 'ACCESS_TOKEN' as const, token: `bench-gateway-${g}` };
    for (let c = 1; c <= children; c++) {
      const name = `${gateway.name}-d${String(c).padStart(4, '0')}`;
      out.push({ name, index: out.length + 1, id: '', credentials, gateway, phase: (g - 1) / gateways });
    }
  }
  return out;
}

export function intervalSec(spec: Pick<GenSpec, 'ratePerDevice'>): number {
  if (spec.ratePerDevice === 'max') return FLAT_OUT_INTERVAL_SEC;
  return spec.ratePerDevice > 0 ? 1 / spec.ratePerDevice : IDLE_INTERVAL_SEC;
}
