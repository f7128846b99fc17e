// The gateway workload's own counters in the stats channel (`workloads.gateway`, documented in
// WORKLOAD_STATS of src/metrics/workload-stats.ts), besides the rows' `devices`, `sent`, `acked`,
// `failed` and `inFlight`, which the shard counts for every fleet workload: the gateway side of
// the same traffic (gateway PUBLISHes, child connects and disconnects, attributes, connections).
// The workload counts into its meter's counters on its own I/O events; the shard ships them.

export const GATEWAY_COUNTERS = [
  'gateways',
  'children',
  'gatewaysConnected',
  'childrenConnected',
  'publishes',
  'batches',
  'batchesAcked',
  'refused',
  'discarded',
  'connects',
  'connectsAcked',
  'connectsRefused',
  'disconnects',
  'attributes',
  'attributesAcked',
  'gatewayConnects',
  'gatewayDrops',
  'childrenDropped',
] as const;

export type GatewayCounters = Record<(typeof GATEWAY_COUNTERS)[number], number>;

/** The batch latency histogram's name (gateway PUBLISH → PUBACK). */
export const BATCH_HISTOGRAM = 'batchMs';
