// What the gateway workload counts, for the report's `workloads.gateway`: cumulative counters
// (child messages and gateway publishes, child connects and disconnects, attributes, gateway
// connections) and, per interval, the histogram of a batch's PUBLISH → PUBACK time. The child
// messages' own sent/acked/failed live in the engine's per-row records like any device's; these
// are the gateway side of the same traffic.
import { encodeHistogram, type Histogram } from '../metrics/hdr.js';

export class GatewayCounters {
  /** Child messages appended to batches. */
  sent = 0;
  /** Child messages in batches acknowledged with success. */
  acked = 0;
  /** Child messages in batches refused by a PUBACK reason code (MQTT 5). */
  refused = 0;
  /** Child messages appended in a tick whose gateway connection ended before the write. */
  discarded = 0;
  /** Telemetry publishes (batches) written, and acknowledged. */
  batches = 0;
  batchesAcked = 0;
  /** `v1/gateway/connect` written, acknowledged, refused. */
  connects = 0;
  connectsAcked = 0;
  connectsRefused = 0;
  /** `v1/gateway/disconnect` written. */
  disconnects = 0;
  /** Children in `v1/gateway/attributes` publishes, and acknowledged. */
  attributes = 0;
  attributesAcked = 0;
  /** Gateway connections accepted (CONNACK), and lost while up (not closed by the lab). */
  gatewayConnects = 0;
  gatewayDrops = 0;
  /** Children whose session the server ended (`v1/gateway/disconnect` to the gateway, MQTT 5). */
  childrenDropped = 0;
  /** Gauges: gateway connections up now, children whose connect was acknowledged and who have not left. */
  gatewaysConnected = 0;
  childrenConnected = 0;
}

export interface GatewayStatsSnapshot {
  counters: Record<string, number>;
  /** Encoded HDR histograms of the interval since the last snapshot. */
  hist: Record<string, string>;
}

export class GatewayStats {
  readonly c = new GatewayCounters();

  constructor(
    public gateways: number,
    readonly children: number,
  ) {}

  /** The counters, and the interval's batch-latency histogram (reset after encoding). */
  take(latency: Histogram): GatewayStatsSnapshot {
    const counters: Record<string, number> = { gateways: this.gateways, children: this.children };
    for (const [k, v] of Object.entries(this.c)) counters[k] = v as number;
    const hist = { latencyMs: encodeHistogram(latency) };
    latency.reset();
    return { counters, hist };
  }
}
