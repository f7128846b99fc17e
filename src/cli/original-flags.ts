// The Python lab's command-line spellings. Where one means what a flag of ours means, it is a
// hidden alias (`--device-count` = `--devices`); where it has no flag here, an "unknown option"
// error says what to use instead. docs/coming-from-python.md has the whole table.
import { Option, type Command } from 'commander';

/** Hidden aliases of the run flags (FLAG_KEYS in commands/run.ts maps them to keys). */
export function withOriginalAliases(cmd: Command): Command {
  const hidden = (flags: string, doc: string) => new Option(flags, doc).hideHelp();
  return cmd
    .addOption(hidden('--device-count <n>', 'same as --devices').conflicts('devices'))
    .addOption(hidden('--host <host>', 'MQTT host (MQTT_HOST)'))
    .addOption(hidden('--port <port>', 'MQTT port (MQTT_PORT)'))
    .addOption(hidden('--metrics-host <host>', 'dashboard address (METRICS_HOST)'))
    .addOption(hidden('--metrics-port <port>', 'dashboard port (METRICS_PORT)'))
    .addOption(hidden('--metrics-refresh <ms>', 'dashboard push interval (METRICS_REFRESH_MS)'))
    .addOption(hidden('--disable-dashboard', 'no dashboard (DASHBOARD=0)'));
}

/** The options with the aliases that need more than a key mapping resolved. */
export function applyOriginalAliases(opts: Record<string, unknown>): Record<string, unknown> {
  return opts.disableDashboard ? { ...opts, dashboard: false } : opts;
}

export const ALIAS_HELP =
  "\nThe Python lab's spellings work too: --device-count, --host, --port, --metrics-host, --metrics-port, " +
  '--metrics-refresh, --disable-dashboard (docs/coming-from-python.md).';

/** The Python lab's flags that have no flag of the same meaning here → what to use instead. */
export const ORIGINAL_ONLY: Readonly<Record<string, string>> = {
  '--ramp': 'ramps are --stages here, e.g. --stages 1m:100,1m:500,3m:1000 (device counts; 1m:25% for shares)',
  '--ramp-percentages': 'ramps are --stages here, e.g. --stages 1m:25%,1m:50%,3m:100% (each stage: duration:target)',
  '--ramp-wait': 'the time of each step is part of --stages, e.g. --stages 3m:25%,3m:50%,3m:100%',
  '--log-dir': 'logs go to <DATA_DIR>/logs: --set DATA_DIR=<dir> moves every file of the lab',
  '--metrics-dir': 'metrics CSVs go to <DATA_DIR>/metrics: --set DATA_DIR=<dir> moves every file of the lab',
  '--tokens-file': 'the fleet is <DATA_DIR>/provisioning/tokens.json: --set DATA_DIR=<dir>',
  '--token-prefix': 'tokens come from tokens.json, written by `tblab provision`',
  '--start-id': 'split a fleet over several labs with --instance i/N',
  '--count': 'split a fleet over several labs with --instance i/N; --devices sets the fleet size',
  '--backoff-base': 'reconnect backoff is in milliseconds here: --set RECONNECT_MIN_MS=1000',
  '--backoff-max': 'reconnect backoff is in milliseconds here: --set RECONNECT_MAX_MS=30000',
  '--report-interval': 'the console prints a progress line every 5 s; the dashboard refreshes every METRICS_REFRESH_MS',
  '--topic': "telemetry goes to ThingsBoard's device topic v1/devices/me/telemetry",
};

/** A line to add to commander's "unknown option" error when the flag is one of the Python lab's. */
export function originalFlagHint(message: string): string | null {
  const flag = /unknown option '(--[^'=]+)/.exec(message)?.[1];
  const hint = flag ? ORIGINAL_ONLY[flag] : undefined;
  return hint ? `${flag} is the Python lab's flag: ${hint}` : null;
}
