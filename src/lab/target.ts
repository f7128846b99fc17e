// The one place that decides what a command talks to: the real server of the configuration, or
// an embedded emulator this lab starts (a child process). It settles the URLs, the credentials and
// the data folder, so `run`, `suite` and any later command see the same target for the same flags.
import { join } from 'node:path';
import { KEYS, type ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { say } from './context.js';
import { withInstance } from './instance.js';
import { embeddedDataDir } from '../common/data-dirs.js';
import { startEmbeddedEmulator } from './embedded.js';
import { embeddedEmulatorArgs } from './delivery/emulator-path.js';
import { EMBEDDED_STATS_ARGS } from './server-stats-run-sink.js';

export interface LabTarget {
  kind: 'real' | 'embedded';
  /** The configuration aimed at the target: TB_URL, MQTT, credentials, DATA_DIR = its data folder. */
  config: ResolvedConfig;
  /** REST URL of the emulator this lab started (the delivery check also reads its own record), else null. */
  emulatorUrl: string | null;
  /** Stops what the lab started for this target (nothing for a real server). */
  close(): Promise<void>;
}

/** DURATION_SEC of an embedded run when unset: the demo ends by itself (a real server's run lasts until stopped). */
export const EMBEDDED_DURATION_SEC = 60;

export interface TargetOptions {
  embedded: boolean;
  /** Prefix of the human lines, e.g. `suite: `. */
  label?: string;
  /** Further `tblab emulator` flags of an embedded emulator, e.g. `--capacity 3000` (`tblab limit`). */
  emulatorArgs?: readonly string[];
}

/**
 * The configuration for an emulator at `emu`: its URLs, its own tenant login (a .env made for a
 * real server must not leak its credentials or parent server into it), the whole fleet (the
 * emulator serves this lab alone, so no INSTANCE slice) and the embedded data folder, made fresh
 * every time so it never replaces a real fleet's tokens.json or teardown manifest. The pid file
 * stays where `tblab stop` looks by default.
 */
export function embeddedConfig(
  base: ResolvedConfig,
  emu: { restUrl: string; mqttHost: string; mqttPort: number; mqttEndpoints?: ResolvedConfig['mqttEndpoints'] },
): ResolvedConfig {
  const dataDir = embeddedDataDir(base.dataDir);
  const defaultDisabled = join(base.dataDir, 'control', 'disabled_devices.json');
  return Object.freeze({
    ...base,
    durationSec: base.durationSec ?? EMBEDDED_DURATION_SEC,
    tbUrl: emu.restUrl,
    mqttHost: emu.mqttHost,
    mqttPort: emu.mqttPort,
    // the emulator's port(s), never the real server's endpoints
    mqttEndpoints: emu.mqttEndpoints ?? [],
    mqttTls: false,
    tbUsername: KEYS.TB_USERNAME.def,
    tbPassword: KEYS.TB_PASSWORD.def,
    tbParentUrl: undefined,
    tbParentUsername: undefined,
    tbParentPassword: undefined,
    tbMetricsUrl: `${emu.restUrl}/actuator/prometheus`, // the embedded emulator serves it (EMBEDDED_STATS_ARGS)
    instance: undefined,
    dataDir,
    disabledDevicesFile:
      base.disabledDevicesFile === defaultDisabled ? join(dataDir, 'control', 'disabled_devices.json') : base.disabledDevicesFile,
  });
}

/** Resolves the target of a command; close() it when done. */
export async function resolveTarget(ctx: LabContext, base: ResolvedConfig, o: TargetOptions): Promise<LabTarget> {
  const p = o.label ?? '';
  if (!o.embedded) {
    const config = withInstance(base, ctx.env, (l) => say(ctx, p + l));
    if (config.durationSec === undefined && !config.stages) {
      say(ctx, `${p}DURATION_SEC is not set: the run lasts until Ctrl+C or \`tblab stop\` (--duration <sec> bounds it)`);
    }
    return { kind: 'real', config, emulatorUrl: null, close: async () => {} };
  }
  say(ctx, `${p}starting the embedded emulator…`);
  if (base.mqttEndpoints.length) say(ctx, `${p}MQTT_ENDPOINTS is ignored with --embedded: the lab connects to the emulator it starts`);
  if (base.durationSec === undefined && !base.stages) {
    say(ctx, `${p}DURATION_SEC is not set: the embedded demo runs ${EMBEDDED_DURATION_SEC} s (--duration 0 = until stopped)`);
  }
  const emulator = await startEmbeddedEmulator([
    ...embeddedEmulatorArgs({ ...base, durationSec: base.durationSec ?? EMBEDDED_DURATION_SEC }),
    ...EMBEDDED_STATS_ARGS,
    // a tenant whose rule chain answers client-side RPC (the `rpc` workload's RPC_CLIENT_RATE)
    '--client-rpc-reply',
    ...(o.emulatorArgs ?? []),
  ]);
  const config = embeddedConfig(base, emulator);
  say(ctx, `${p}emulator: REST ${emulator.restUrl}, MQTT ${emulator.mqttHost}:${emulator.mqttPort}; files in ${config.dataDir}`);
  return { kind: 'embedded', config, emulatorUrl: emulator.restUrl, close: () => emulator.close() };
}
