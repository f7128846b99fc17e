// `tblab devices activate|deactivate|toggle`: the paused-devices list a running lab reloads
// (data/control/disabled_devices.json, atomic) plus `manual_*` server attributes in ThingsBoard.
// Attributes are written first, the file last: a failure leaves both as they were.
import type { ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { LabError } from '../common/errors.js';
import { disabledNames, type DisabledDevicesFile } from '../common/control.js';
import { readJsonFile, writeJsonAtomic } from '../common/fs.js';
import { clientFromConfig, type TbClient } from '../thingsboard/client.js';
import { saveServerAttributes } from '../thingsboard/devices.js';
import { selectDevices, type DeviceSelection } from './fleet-select.js';
import { runPool } from './pool.js';

export type DeviceAction = 'activate' | 'deactivate' | 'toggle';

export interface ControlOptions extends DeviceSelection {
  action: DeviceAction;
  /** Print what would change; write nothing (neither the file nor the server). */
  dryRun?: boolean;
}

export interface ControlChange {
  name: string;
  id: string;
  from: 'active' | 'paused';
  to: 'active' | 'paused';
}

export interface ControlSummary {
  action: DeviceAction;
  dryRun: boolean;
  selected: number;
  changes: ControlChange[];
  unchanged: number;
  /** Paused devices after the command (or that would be, in a dry run). */
  paused: number;
  file: string;
}

export function readDisabledFile(path: string): DisabledDevicesFile {
  let f: unknown;
  try {
    f = readJsonFile<unknown>(path, { version: 1, updatedAt: new Date(0).toISOString(), devices: [] });
  } catch (e) {
    throw new LabError('CONFIG_FILE_UNREADABLE', {
      message: `${path} is not valid JSON: ${(e as Error).message}`,
      hint: 'Fix or delete the file (it lists paused devices).',
    });
  }
  // the original lab's plain array of names is read too (and rewritten in our form on the next change)
  const names = disabledNames(f);
  const hint = 'Expected {"version":1,"devices":["name",…]} or ["name",…]; fix or delete the file (it lists paused devices).';
  if (!names) throw new LabError('CONFIG_FILE_UNREADABLE', { message: `${path} has an unknown format`, hint });
  return Array.isArray(f) ? { version: 1, updatedAt: new Date(0).toISOString(), devices: names } : (f as DisabledDevicesFile);
}

export async function controlDevices(ctx: LabContext, cfg: ResolvedConfig, opts: ControlOptions): Promise<ControlSummary> {
  let client: TbClient | null = null;
  const getClient = async () => (client ??= clientFromConfig(cfg));
  try {
    const selected = await selectDevices(cfg, opts, getClient);
    const file = readDisabledFile(cfg.disabledDevicesFile);
    const paused = new Set(file.devices);
    const changes: ControlChange[] = [];
    for (const d of selected) {
      const from = paused.has(d.name) ? 'paused' : 'active';
      const to = opts.action === 'activate' ? 'active' : opts.action === 'deactivate' ? 'paused' : from === 'paused' ? 'active' : 'paused';
      if (from !== to) changes.push({ name: d.name, id: d.id, from, to });
    }
    for (const c of changes)
      if (c.to === 'paused') paused.add(c.name);
      else paused.delete(c.name);
    const summary: ControlSummary = {
      action: opts.action,
      dryRun: Boolean(opts.dryRun),
      selected: selected.length,
      changes,
      unchanged: selected.length - changes.length,
      paused: paused.size,
      file: cfg.disabledDevicesFile,
    };
    if (opts.dryRun || changes.length === 0) return summary;

    const c = await getClient();
    const at = ctx.now();
    await runPool(changes.length, cfg.provisionConcurrency, (i) =>
      saveServerAttributes(c, changes[i].id, {
        manual_active: changes[i].to === 'active',
        manual_changed_at: at,
        manual_action: opts.action,
      }),
    );
    writeJsonAtomic(cfg.disabledDevicesFile, {
      version: 1,
      updatedAt: new Date(at).toISOString(),
      devices: [...paused].sort(),
    } satisfies DisabledDevicesFile);
    return summary;
  } finally {
    await (client as TbClient | null)?.close();
  }
}

/** `tblab devices <action>`: applies it and prints each change and the summary (JSON on stdout with `json`). */
export async function devicesCommand(ctx: LabContext, cfg: ResolvedConfig, opts: ControlOptions & { json: boolean }): Promise<void> {
  const s = await controlDevices(ctx, cfg, opts);
  if (opts.json) ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
  const would = s.dryRun ? 'would ' : '';
  for (const c of s.changes) ctx.stderr.write(`${would}${c.to === 'paused' ? 'pause' : 'resume'} ${c.name}\n`);
  const already = opts.action === 'activate' ? 'active' : opts.action === 'deactivate' ? 'paused' : 'as asked';
  ctx.stderr.write(
    `${s.dryRun ? 'dry run: ' : ''}${s.changes.length} device(s) ${s.dryRun ? 'would change' : 'changed'}, ` +
      `${s.unchanged} already ${already}; ` +
      `${s.paused} paused in total${s.dryRun ? ' after it; nothing was written' : ` (${s.file})`}\n`,
  );
}
