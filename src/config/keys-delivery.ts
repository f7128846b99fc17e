// The delivery check's and the server statistics' keys: what the lab reads back from ThingsBoard
// during and after a run (docs/delivery.md, docs/server-stats.md). Part of the key table (src/config/keys.ts).
import type { KeyDef } from './keys.js';
import { bool, int, num, optHttpUrl, optInt } from './parsers.js';

export const DELIVERY_KEYS = {
  DELIVERY_CHECK: {
    prop: 'deliveryCheck',
    schema: bool,
    def: '1',
    group: 'Delivery',
    doc: 'After the run, read back through the REST API what ThingsBoard stored (per device) and reconcile it with what was sent; 0 = no delivery check at all (no ingest latency, no rate-limit attribution).',
  },
  DELIVERY_EVERY_SEC: {
    prop: 'deliveryEverySec',
    schema: num(0, 86_400),
    def: '0',
    group: 'Delivery',
    doc: 'Also count stored points every this many seconds during the run (0 = only at the end).',
  },
  DELIVERY_SAMPLE: {
    prop: 'deliverySample',
    schema: int(0, 1_000_000),
    def: '50',
    group: 'Delivery',
    doc: 'Devices whose stored `sequence` values are read one by one (exact gaps and duplicates).',
  },
  DELIVERY_SETTLE_SEC: {
    prop: 'deliverySettleSec',
    schema: num(0, 86_400),
    def: '10',
    group: 'Delivery',
    doc: 'After the run, keep re-counting devices with missing points for up to this long, seconds (queue lag).',
  },
  DELIVERY_LATE_MS: {
    prop: 'deliveryLateMs',
    schema: int(0, 86_400_000),
    def: '10000',
    group: 'Delivery',
    doc: 'A stored point counts as late when its server ts is more than this after the payload `timestamp`, ms.',
  },
  DELIVERY_CONCURRENCY: {
    prop: 'deliveryConcurrency',
    schema: int(1, 256),
    def: '8',
    group: 'Delivery',
    doc: 'Concurrent REST requests of the delivery check.',
  },
  LATENCY_SAMPLE: {
    prop: 'latencySample',
    schema: int(0, 10_000),
    def: '50',
    group: 'Delivery',
    doc: 'Devices followed over the WebSocket API for ingest latency (payload `timestamp` → update received); 0 = off.',
  },
  SERVER_STATS: {
    prop: 'serverStats',
    schema: bool,
    def: '1',
    group: 'Delivery',
    doc:
      "During the run, read ThingsBoard's own statistics (queue stats, API usage, system info, TB_METRICS_URL) and name " +
      'the tier that fell behind first (report `server`, docs/server-stats.md); 0 = off.',
  },
  TB_METRICS_URL: {
    prop: 'tbMetricsUrl',
    schema: optHttpUrl,
    def: '',
    group: 'Delivery',
    doc:
      "ThingsBoard's Prometheus endpoint, e.g. http://tb-host:8080/actuator/prometheus (METRICS_ENABLED=true); empty = not read. " +
      'Credentials in it are masked wherever it is shown.',
  },
  SERVER_STATS_POLL_SEC: {
    prop: 'serverStatsPollSec',
    schema: num(0.2, 3600),
    def: '10',
    group: 'Delivery',
    doc: "Read queue stats and API usage every this many seconds: at most half ThingsBoard's stats window (60 s by default).",
  },
  SERVER_STATS_SETTLE_SEC: {
    prop: 'serverStatsSettleSec',
    schema: optInt(0, 3600),
    def: '',
    group: 'Delivery',
    doc:
      "After the run's load ends, keep reading this long so ThingsBoard's last stats window is seen (alongside the delivery check's settle), seconds; empty = 0 against a server " +
      '(65 reads its last 60 s window), the window + 2 with --embedded.',
  },
} as const satisfies Record<string, KeyDef>;
