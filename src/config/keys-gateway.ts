// The gateway workload's keys (`--workload gateway`): how many gateway devices, and how many child
// devices each one carries (docs/workloads.md#gateway). Part of the key table (src/config/keys.ts).
import type { KeyDef } from './keys.js';
import { int } from './parsers.js';

export const GATEWAY_KEYS = {
  GATEWAYS: {
    prop: 'gateways',
    schema: int(1, 100_000),
    def: '10',
    group: 'Workloads',
    doc:
      'Gateway devices of the `gateway` workload, named `<prefix>-gNNN` and created by `provision` with `additionalInfo.gateway = true`; ' +
      'each is one MQTT connection carrying GATEWAY_CHILDREN child devices.',
  },
  GATEWAY_CHILDREN: {
    prop: 'gatewayChildren',
    schema: int(1, 10_000),
    def: '10',
    group: 'Workloads',
    doc:
      'Child devices per gateway (`gateway` workload), named `<prefix>-gNNN-dNNNN`: ThingsBoard creates them on their first ' +
      "`v1/gateway/connect`; each publishes every PUBLISH_INTERVAL_SEC inside its gateway's batch.",
  },
} as const satisfies Record<string, KeyDef>;
