// `tblab limit`: maps flags to the options of src/lab/limit/command.ts (the search and its report).
import { Option, type Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { LabError } from '../../common/errors.js';
import { withConfigOptions, resolveConfig } from '../common.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** The run flags a search keeps fixed (the varied one is overridden per step). */
const FLAG_KEYS = {
  qos: 'MQTT_QOS',
  interval: 'PUBLISH_INTERVAL_SEC',
  devices: 'DEVICE_COUNT',
  connectRate: 'CONNECT_RATE',
  maxClientsPerProcess: 'MAX_CLIENTS_PER_PROCESS',
  shards: 'SHARDS',
  sourceAddresses: 'SOURCE_ADDRESSES',
  payloadTemplate: 'PAYLOAD_TEMPLATE',
  preflight: 'PREFLIGHT',
  latencySample: 'LATENCY_SAMPLE',
  deliverySettle: 'DELIVERY_SETTLE_SEC',
  instance: 'INSTANCE',
  startAt: 'LIMIT_START_AT',
} as const;

function number(flag: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) {
      throw new LabError('USAGE', {
        message: `${flag} expects a number ≥ ${min}, got ${JSON.stringify(v)}`,
        hint: `Fix ${flag} (docs/limit.md).`,
      });
    }
    return n;
  };
}

/** `tblab suite --limit rate:500-20000`: the dimension and the range of a search with default settings. */
export function parseLimitSpec(spec: string): { vary: 'rate' | 'devices' | 'connect-rate'; from: number; to: number } {
  const m = /^(rate|devices|connect-rate):(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(spec.trim());
  if (!m) {
    throw new LabError('USAGE', {
      message: `--limit expects <rate|devices|connect-rate>:<from>-<to>, got ${JSON.stringify(spec)}`,
      hint: 'e.g. --limit rate:500-20000 (docs/limit.md).',
    });
  }
  return { vary: m[1] as 'rate' | 'devices' | 'connect-rate', from: Number(m[2]), to: Number(m[3]) };
}

export function registerLimit(program: Command, ctx: LabContext, setExit: (code: number) => void): void {
  withConfigOptions(
    program
      .command('limit')
      .description(
        'find the load the server sustains: step one dimension up, judge each step with an SLO, bisect to the knee, name what broke',
      )
      .addOption(
        new Option('--vary <dimension>', 'what grows: publishes per second, connected devices, or connects per second')
          .choices(['rate', 'devices', 'connect-rate'])
          .makeOptionMandatory(),
      )
      .requiredOption('--from <load>', 'first step, in the varied unit (msg/s, devices, connects/s)', number('--from', 1))
      .requiredOption('--to <load>', 'highest step', number('--to', 1))
      .option('--resolution <pct>', 'bisect until the gap between the last good and first bad step is within this (default 5%)')
      .option('--step-factor <x>', 'growth of the climbing steps (default 2)', number('--step-factor', 1))
      .option(
        '--step-hold <sec>',
        'seconds each step holds its load (default three publish intervals, at least 20)',
        number('--step-hold', 1),
      )
      .option('--settle <sec>', 'seconds the server gets between steps (default 5)', number('--settle', 0))
      .addOption(
        new Option('--slo <expr>', 'objective every step must meet (repeatable; replaces the default; docs/limit.md)')
          .argParser(collect)
          .default([]),
      )
      .addOption(new Option('--qos <qos>', 'QoS of telemetry publishes').choices(['0', '1']))
      .option('--interval <sec>', 'publish interval of each device (--vary devices, connect-rate)')
      .option('--devices <n>', 'devices (--vary rate, connect-rate: the fleet; --vary devices: at least --to are used)')
      .option('--connect-rate <n>', 'new connections per second (0 = unlimited; --vary connect-rate overrides it)')
      .option('--max-clients-per-process <n>', 'most connections one shard process holds')
      .option('--shards <n>', 'shard processes (0 = one per core, more when needed)')
      .option('--source-addresses <list>', 'local addresses to spread connections over, e.g. 127.0.0.2-127.0.0.9')
      .option('--payload-template <file>', 'JSON template of the telemetry payload')
      .addOption(new Option('--preflight <mode>', 'open-file pre-flight: refuse, warn or skip').choices(['fail', 'warn', 'off']))
      .option('--latency-sample <n>', 'devices followed over the WebSocket API for ingest latency (0 = off)')
      .option('--delivery-settle <sec>', 'after each step, wait up to <sec> seconds for points still arriving')
      .option('--instance <i/N>', "this instance's share of a search split over N instances (needs RUN_ID and --start-at)")
      .option('--start-at <time>', 'with --instance: when the shared step ladder starts (Unix seconds or ISO 8601 with a zone)')
      .option('--embedded', 'start the embedded ThingsBoard emulator, provision into it, search against it')
      .option(
        '--emulator-capacity <msg/s>',
        'with --embedded: the emulator models a server saturating at this rate',
        number('--emulator-capacity', 0),
      )
      .option('--json', 'print the report path and the verdict (limit.sustainedPerSec, brokeAt, firstBroken, tier, steps) as JSON'),
  ).action(async (opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts, FLAG_KEYS);
    const { limitCommand, parseResolution } = await import('../../lab/limit/command.js');
    setExit(
      await limitCommand(ctx, config, {
        vary: opts.vary as 'rate' | 'devices' | 'connect-rate',
        from: opts.from as number,
        to: opts.to as number,
        factor: opts.stepFactor as number | undefined,
        resolution: opts.resolution === undefined ? undefined : parseResolution(opts.resolution as string),
        stepHoldSec: opts.stepHold as number | undefined,
        settleSec: opts.settle as number | undefined,
        slo: opts.slo as string[],
        embedded: Boolean(opts.embedded),
        emulatorCapacity: opts.emulatorCapacity as number | undefined,
        json: Boolean(opts.json),
      }),
    );
  });
}
