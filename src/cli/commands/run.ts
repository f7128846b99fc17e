// `tblab run`: maps flags to configuration keys and hands over to src/lab/run.ts (runCommand).
// The run flags (withRunFlags, FLAG_KEYS) are shared with `tblab suite`, which takes them directly
// or after `--`, so a flag means the same in both.
import { Option, type Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';
import { withThresholdOptions, thresholdOptions } from './threshold-options.js';
import { WORKLOAD_NAMES } from '../../common/workloads.js';
import { ALIAS_HELP, withOriginalAliases, applyOriginalAliases } from '../original-flags.js';
import { RPC_FLAG_KEYS } from '../../config/keys-rpc.js';

export const FLAG_KEYS = {
  duration: 'DURATION_SEC',
  qos: 'MQTT_QOS',
  interval: 'PUBLISH_INTERVAL_SEC',
  devices: 'DEVICE_COUNT',
  gateways: 'GATEWAYS',
  children: 'GATEWAY_CHILDREN',
  connectRate: 'CONNECT_RATE',
  maxClientsPerProcess: 'MAX_CLIENTS_PER_PROCESS',
  preflight: 'PREFLIGHT',
  shards: 'SHARDS',
  sourceAddresses: 'SOURCE_ADDRESSES',
  stages: 'STAGES',
  payloadTemplate: 'PAYLOAD_TEMPLATE',
  logEveryMessage: 'LOG_EVERY_MESSAGE',
  instance: 'INSTANCE',
  mqttVersion: 'MQTT_VERSION',
  keepDashboard: 'KEEP_DASHBOARD',
  deliveryEvery: 'DELIVERY_EVERY_SEC',
  deliverySample: 'DELIVERY_SAMPLE',
  deliverySettle: 'DELIVERY_SETTLE_SEC',
  latencySample: 'LATENCY_SAMPLE',
  workload: 'WORKLOADS',
  httpDevices: 'HTTP_DEVICES',
  httpUrl: 'HTTP_URL',
  httpConnections: 'HTTP_CONNECTIONS',
  // the Python lab's spellings (src/cli/original-flags.ts)
  deviceCount: 'DEVICE_COUNT',
  host: 'MQTT_HOST',
  port: 'MQTT_PORT',
  metricsHost: 'METRICS_HOST',
  metricsPort: 'METRICS_PORT',
  metricsRefresh: 'METRICS_REFRESH_MS',
  dashboard: 'DASHBOARD',
  ...RPC_FLAG_KEYS,
} as const;

export const DURATION_HELP =
  'run length in seconds; 0 = until Ctrl+C or `tblab stop`. Unset: until stopped against a real server, 60 with --embedded';

/** The flags of a load run, shared by `tblab run` and `tblab suite` (not --embedded/--json: each command has its own). */
export function withRunFlags(cmd: Command): Command {
  cmd
    .option('--duration <sec>', DURATION_HELP)
    .addOption(new Option('--qos <qos>', 'QoS of telemetry publishes').choices(['0', '1']))
    .option('--interval <sec>', 'each device publishes every <sec> seconds (fractions allowed)')
    .option('--devices <n>', 'devices to run (DEVICE_COUNT; the first n of tokens.json)')
    .option('--gateways <n>', 'gateway devices of the gateway workload, one MQTT connection each (GATEWAYS)')
    .option('--children <n>', 'child devices per gateway, each publishing in its batches (GATEWAY_CHILDREN)')
    .option('--connect-rate <n>', 'new connections per second, all shards together (0 = unlimited)')
    .option('--max-clients-per-process <n>', 'most connections one shard process holds')
    .option('--shards <n>', 'shard processes (0 = one per core, more when needed)')
    .addOption(
      new Option('--preflight <mode>', 'open-file pre-flight before connecting: refuse, warn or skip').choices(['fail', 'warn', 'off']),
    )
    .option('--source-addresses <list>', 'local addresses to spread connections over, e.g. 127.0.0.2-127.0.0.9')
    .option('--stages <spec>', 'ramp of active devices, e.g. 30s:100%,2m:100%,30s:0%')
    .option('--payload-template <file>', 'JSON template of the telemetry payload')
    .option('--log-every-message', 'log every publish and its outcome (run log data/logs/<run-id>.log, events JSONL)')
    .option('--instance <i/N>', "this instance's slice of the fleet")
    .addOption(new Option('--mqtt-version <v>', 'MQTT protocol version').choices(['3.1.1', '5']))
    .option('--keep-dashboard', 'after the run, keep the dashboard open on its final state until Ctrl+C')
    .option('--delivery-every <sec>', 'count stored points every <sec> seconds during the run (0 = only at the end)')
    .option('--delivery-sample <n>', 'devices whose stored sequence values are read one by one (exact gaps, duplicates)')
    .option('--delivery-settle <sec>', 'after the run, wait up to <sec> seconds for points still arriving')
    .option('--latency-sample <n>', 'devices followed over the WebSocket API for ingest latency (0 = off)')
    .addOption(
      new Option('--workload <name>', `what the run does, repeatable to mix: ${WORKLOAD_NAMES.join('|')} (default device)`).argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .option('--http-devices <n>', 'devices posting over HTTP when http is mixed with MQTT devices (default half the fleet)')
    .option('--http-url <url>', 'base URL of the HTTP device API (default TB_URL)')
    .option('--http-connections <n>', 'keep-alive connections of the http workload, all shards together');
  withRoundTripFlags(cmd);
  return withOriginalAliases(cmd);
}

/** Flags of the `rpc` and `attributes` workloads (src/config/keys-rpc.ts). */
function withRoundTripFlags(cmd: Command): void {
  cmd
    .option('--rpc-rate <n>', 'rpc workload: server-side RPC calls per second through REST')
    .addOption(new Option('--rpc-mode <mode>', 'rpc workload: two-way (the device answers) or one-way calls').choices(['oneway', 'twoway']))
    .addOption(new Option('--rpc-api <v>', 'rpc workload: /api/rpc (v2) or /api/plugins/rpc (v1)').choices(['v1', 'v2']))
    .option('--rpc-timeout <ms>', "rpc workload: the calls' timeout, ms")
    .option('--rpc-response-delay <ms>', 'rpc workload: the devices answer this long after a request arrives, ms')
    .option('--rpc-failure-share <share>', 'rpc workload: share 0..1 of requests the devices leave unanswered')
    .addOption(
      new Option('--rpc-targets <who>', 'rpc workload: call the MQTT devices, the gateway children, or all').choices([
        'devices',
        'children',
        'all',
      ]),
    )
    .option('--rpc-client-rate <n>', 'rpc workload: client-side RPC calls per second from the devices')
    .option('--attribute-rate <n>', 'attributes workload: shared-attribute writes per second through REST')
    .option('--attribute-request-rate <n>', 'attributes workload: attribute requests per second from the devices')
    .option('--attribute-timeout <ms>', 'attributes workload: a push not seen after this long is a timeout, ms');
}

export function registerRun(program: Command, ctx: LabContext, setExit: (code: number) => void): void {
  withThresholdOptions(
    withConfigOptions(
      withRunFlags(
        program
          .command('run')
          .description('the load run: connect the fleet, publish on schedule, measure, write the report (Ctrl+C stops cleanly)'),
      ),
    ),
  )
    .option('--embedded', 'start the embedded ThingsBoard emulator, provision into it, run against it')
    .option('--json', 'print the report path and a summary as JSON on stdout')
    .addHelpText('after', ALIAS_HELP)
    .action(async (opts: Record<string, unknown>) => {
      const thresholds = thresholdOptions((l) => ctx.stderr.write(l + '\n'), opts);
      const { config } = resolveConfig(ctx, applyOriginalAliases(opts), FLAG_KEYS);
      const { runCommand } = await import('../../lab/run.js');
      setExit(await runCommand(ctx, config, { embedded: Boolean(opts.embedded), json: Boolean(opts.json), thresholds }));
    });
}
