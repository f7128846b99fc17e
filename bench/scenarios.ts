// The fixed benchmark scenarios of issue 8 (B1–B5) and the goals each is judged against.
import type { PhaseTiming } from './lib/phase.js';
import type { LoadShape } from './lib/protocol.js';

export interface Scenario extends LoadShape {
  name: string;
  title: string;
  timing: PhaseTiming;
  /** Idle scenarios also measure a one-device-per-process floor, so KB/connection is marginal. */
  measureFloor: boolean;
  /** Baseline rate when it differs from the lab's. */
  baselineRate?: number | 'max';
  /** Baseline timing when it differs (soak: the baseline runs the short window). */
  baselineTiming?: PhaseTiming;
  /** No baseline phase (G1: the baseline writer knows no gateways; it is compared with B1 instead). */
  noBaseline?: boolean;
  /** Not in the default run: B5 runs with --soak, SMOKE only when named in --only. */
  optIn?: 'soak' | 'named';
  /** Driven by the CLI (`tblab provision`, `tblab run`) against its own targets (bench/lib/b6.ts), not by lab-gen. */
  driver?: 'tblab';
  goal: string;
}

/** Publishing scenarios connect at the lab's default rate (connect speed is B3's business). */
const CONNECT_RATE = 2000;

const standard: PhaseTiming = { warmupSec: 5, windowSec: 10, rssEverySec: 0, connectTimeoutSec: 120 };

/** 127.0.0.2 … 127.0.0.(1+count): Linux routes all of 127.0.0.0/8 to lo, no set-up needed. */
export function loopbackAddresses(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${first + i}`);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'B1',
    title: '10,000 devices × 5 msg/s, QoS 0 (50k msg/s)',
    devices: 10_000,
    ratePerDevice: 5,
    qos: 0,
    sourceAddresses: [],
    connectRate: CONNECT_RATE,
    shards: 1,
    timing: standard,
    measureFloor: false,
    goal: '≤ 11 µs/msg',
  },
  {
    name: 'B2',
    title: '10,000 devices × 2 msg/s, QoS 1 (20k msg/s)',
    devices: 10_000,
    ratePerDevice: 2,
    qos: 1,
    sourceAddresses: [],
    connectRate: CONNECT_RATE,
    shards: 1,
    timing: standard,
    measureFloor: false,
    goal: '≤ 16 µs/msg',
  },
  {
    // ~4.75k per source address: Node binds before connecting and bind() slows as one address fills
    name: 'B3',
    title: '19,000 idle connections over 4 source addresses',
    devices: 19_000,
    ratePerDevice: 0,
    qos: 0,
    sourceAddresses: loopbackAddresses(2, 4),
    connectRate: 0,
    shards: 0,
    timing: { ...standard, windowSec: 0 },
    measureFloor: true,
    goal: 'all connected ≤ 3 s, ≤ 10 KB/conn',
  },
  {
    // the lab is an open-model generator: "flat out" is an intended rate above the goal (100 msg/s per
    // device, one publish every 10 ms); the baseline writes as fast as mosquitto takes it
    name: 'B4',
    title: '1,000 devices flat out (lab: 100 msg/s each), QoS 0, one shard',
    devices: 1_000,
    ratePerDevice: 100,
    baselineRate: 'max',
    qos: 0,
    sourceAddresses: [],
    connectRate: CONNECT_RATE,
    shards: 1,
    timing: standard,
    measureFloor: false,
    goal: '≥ 80,000 msg/s received',
  },
  {
    name: 'B5',
    title: 'soak: B1 at half rate (25k msg/s) for 10 min, RSS every 10 s',
    devices: 10_000,
    ratePerDevice: 2.5,
    qos: 0,
    sourceAddresses: [],
    connectRate: CONNECT_RATE,
    shards: 1,
    timing: { warmupSec: 30, windowSec: 600, rssEverySec: 10, connectTimeoutSec: 120 },
    baselineTiming: standard,
    measureFloor: false,
    optIn: 'soak',
    goal: 'RSS growth < 5 % after warm-up',
  },
  {
    // issue 16: one connection per gateway carrying 100 children, each child every 0.5 s: 200
    // gateway PUBLISHes/s of ~100 entries each. Compared with B1's per-device cost, same run
    name: 'G1',
    title: '100 gateways × 100 children × 2 msg/s, QoS 1 (20k child msg/s, 200 gateway msg/s)',
    devices: 100,
    children: 100,
    ratePerDevice: 2,
    qos: 1,
    sourceAddresses: [],
    connectRate: 0,
    shards: 1,
    timing: standard,
    measureFloor: false,
    noBaseline: true,
    goal: 'µs/child msg ≤ B1 µs/msg',
  },
  {
    // issue 18: the product itself at 100k (its shards, source addresses and the per-process cap
    // planned by it) against the emulator with enough workers, then against 6 mosquitto processes.
    // Opt-in (--only B6, ~10 minutes); --devices N runs the same at a smaller fleet
    name: 'B6',
    title: '100,000 devices × 0.1 msg/s, QoS 1 (10k msg/s): emulator --workers, then 6 mosquittos',
    devices: 100_000,
    ratePerDevice: 0.1,
    qos: 1,
    sourceAddresses: [],
    connectRate: 0,
    shards: 0,
    // 60 s held after the ramp: 10 s for the last devices' first publishes, then a 50 s window
    timing: { warmupSec: 10, windowSec: 50, rssEverySec: 0, connectTimeoutSec: 300 },
    measureFloor: false,
    optIn: 'named',
    driver: 'tblab',
    goal: 'all connected, sent = acked = stored per device, $SYS sum = sent',
  },
  {
    // a check of the harness itself (the integration test runs it): seconds, not minutes
    name: 'SMOKE',
    title: '50 devices × 10 msg/s, QoS 1, 2 s window',
    devices: 50,
    ratePerDevice: 10,
    qos: 1,
    sourceAddresses: [],
    connectRate: 0,
    shards: 1,
    timing: { warmupSec: 1, windowSec: 2, rssEverySec: 0, connectTimeoutSec: 60 },
    measureFloor: false,
    optIn: 'named',
    goal: 'sent = received',
  },
];
