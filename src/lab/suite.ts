// `tblab suite`: the whole workflow in one command — (embedded emulator) → provision when needed →
// activate the fleet → run (thresholds) → deactivate with --deactivate-after, also when the run
// failed or was interrupted → the summary. A signal never kills the suite between steps: it stops
// the run (or the provisioning) and the clean-up still happens.
import type { ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { ExitCode, LabError, describeError } from '../common/errors.js';
import { sliceBounds } from '../common/fleet.js';
import { renderSummary, summarize } from '../report/summary.js';
import { readTokenFile } from './fleet-file.js';
import { prepareThresholds, type ThresholdRunOptions } from './thresholds.js';
import { fleetParts } from './run-fleet.js';
import type { LabTarget } from './target.js';
import type { LimitCommandOptions } from './limit/command.js';
import { redactUrl, sameServer } from '../common/redact.js';

export type ProvisionMode = 'auto' | 'always' | 'never';

export interface SuiteOptions {
  /** auto: provision when tokens.json is missing, of another server/prefix, or smaller than asked. */
  provision: ProvisionMode;
  /** Resume the whole fleet before the run (the Python lab's --skip-activate turns it off). */
  activate?: boolean;
  /** Pause the whole fleet at the end (also after a failure or an interrupt). */
  deactivateAfter: boolean;
  /** Start the embedded emulator in a child process and run the suite against it. */
  embedded: boolean;
  /** --threshold, --abort-on-fail, --abort-grace (parsed before anything else happens). */
  thresholds: ThresholdRunOptions;
  /** Summary as JSON on stdout (else the text summary, as `tblab report` prints it). */
  json: boolean;
  /** `--limit`: a limit search (src/lab/limit/command.ts) instead of the run. */
  limit?: Omit<LimitCommandOptions, 'json' | 'embedded'>;
}

/** Devices of tokens.json that this run needs and that are on file for this server and prefix. */
export function fleetShortfall(config: ResolvedConfig): { have: number; need: number; why: string | null } {
  const { start, end } = config.instance
    ? sliceBounds(config.deviceCount, config.instance.index, config.instance.count)
    : { start: 0, end: config.deviceCount };
  const need = end - start;
  const tf = readTokenFile(config.dataDir);
  if (!tf) return { have: 0, need, why: 'no tokens.json yet' };
  if (!sameServer(tf.server, config.tbUrl)) return { have: 0, need, why: `tokens.json belongs to ${redactUrl(tf.server)}` };
  if (tf.prefix !== config.devicePrefix) return { have: 0, need, why: `tokens.json holds the fleet "${tf.prefix}"` };
  const have = Object.values(tf.devices).filter((d) => d.index > start && d.index <= end).length;
  return { have, need, why: have < need ? `tokens.json has ${have} of the ${need} devices` : null };
}

export async function runSuite(ctx: LabContext, base: ResolvedConfig, o: SuiteOptions): Promise<number> {
  const say = (l: string) => ctx.stderr.write(l + '\n');
  const thresholds = prepareThresholds(o.thresholds);
  let interrupted: NodeJS.Signals | null = null;
  const offSignal = ctx.onSignal((s) => {
    interrupted ??= s;
  });
  const checkInterrupt = () => {
    if (interrupted) throw new LabError('ABORTED', { message: `Suite stopped by ${interrupted} before the run started` });
  };
  const { resolveTarget } = await import('./target.js');
  let fleetReady = false;
  let target: LabTarget | null = null;
  let config = base;
  try {
    target = await resolveTarget(ctx, base, { embedded: o.embedded, label: 'suite: ' });
    config = target.config;
    checkInterrupt();
    const parts = fleetParts(config);
    const gap = fleetShortfall(config);
    if (!parts.devices) {
      // a gateway-only run uses no tokens.json devices
    } else if (o.provision === 'always' || (o.provision === 'auto' && gap.why)) {
      const why = o.provision === 'auto' ? ` (${gap.why})` : '';
      say(`suite: provisioning ${gap.need} devices on ${redactUrl(config.tbUrl)}${why}`);
      const { provision } = await import('./provision.js');
      const p = await provision(ctx, config, { progress: false });
      say(`suite: provisioned ${p.total} devices in ${p.seconds}s (${p.created} created, ${p.reused} reused) → ${p.tokenFile}`);
    } else if (gap.why) {
      throw new LabError('NO_FLEET', {
        message: `--provision never, but ${gap.why} (DEVICE_COUNT ${config.deviceCount}, ${redactUrl(config.tbUrl)})`,
        hint: 'Use --provision auto, or run `tblab provision` first.',
      });
    } else {
      say(`suite: fleet of ${gap.have} devices on file for ${redactUrl(config.tbUrl)}; not provisioning (--provision always forces it)`);
    }
    if (parts.gateways && o.provision !== 'never') {
      // the gateway workload's gateways (idempotent: one listing, existing ones reused); their children come with the run
      const { provisionGateways } = await import('./provision-gateways.js');
      const g = await provisionGateways(ctx, config);
      say(`suite: ${g.total} gateways ready (${g.created} created, ${g.reused} reused) → ${g.file}`);
    }
    fleetReady = true;
    checkInterrupt();

    if (o.activate !== false) {
      const { controlDevices } = await import('./devices.js');
      const act = await controlDevices(ctx, config, { action: 'activate', all: true });
      say(`suite: activated the fleet (${act.changes.length} resumed, ${act.unchanged} already active)`);
    } else say('suite: not activating the fleet (--skip-activate): paused devices stay paused');
    checkInterrupt();

    if (o.limit) {
      const { limitOnTarget } = await import('./limit/command.js');
      return await limitOnTarget(ctx, target, { ...o.limit, embedded: o.embedded, json: o.json });
    }
    const { runLab } = await import('./run.js');
    const { exitCode: code, report } = await runLab(ctx, target, { thresholds });
    const s = summarize(report);
    // the summary is the command's result: stdout, like `tblab report` (progress stays on stderr)
    if (o.json) ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
    else ctx.stdout.write(renderSummary(report, s));
    if (code === ExitCode.THRESHOLDS_FAILED) say('suite: thresholds failed (exit code 5)');
    return code;
  } finally {
    if (o.deactivateAfter && fleetReady) {
      try {
        const { controlDevices } = await import('./devices.js');
        const d = await controlDevices(ctx, config, { action: 'deactivate', all: true });
        say(`suite: deactivated the fleet (${d.changes.length} paused, ${d.paused} paused in total)`);
      } catch (e) {
        say(`suite: could not deactivate the fleet: ${describeError(e)} — run \`tblab devices deactivate --all\``);
      }
    }
    offSignal();
    await target?.close();
  }
}
