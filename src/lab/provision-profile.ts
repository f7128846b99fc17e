// The device profile a fleet is provisioned on (DEVICE_PROFILE_ID, DEVICE_TYPE or the tenant default) and
// how a reused device differs from the configuration (drift). Separate from provision.ts, which runs the
// fleet through the server: these are the per-device rules it applies, readable on their own.
import type { ResolvedConfig } from '../config/index.js';
import { LabError, describeError } from '../common/errors.js';
import type { TbClient } from '../thingsboard/client.js';
import { defaultDeviceProfile, deviceProfileInfo } from '../thingsboard/devices.js';
import { isNotFound } from '../thingsboard/errors.js';
import type { TbDevice } from '../thingsboard/types.js';
import { compareNames } from './fleet-server.js';

/** How a device on the server differs from the configuration: field → [on the server, configured]. */
export type Drift = Partial<Record<'label' | 'type' | 'deviceProfileId', [string | null, string]>>;

/** DEVICE_PROFILE_ID (checked), else DEVICE_TYPE (by name; the server creates it if missing), else the tenant default. */
export async function resolveProfile(client: TbClient, cfg: ResolvedConfig): Promise<{ id: string | null; type?: string }> {
  if (cfg.deviceProfileId) {
    try {
      return { id: (await deviceProfileInfo(client, cfg.deviceProfileId)).id.id };
    } catch (e) {
      if (isNotFound(e) || (e instanceof LabError && e.code === 'REQUEST_REJECTED')) {
        throw new LabError('CONFIG_INVALID', {
          message: `DEVICE_PROFILE_ID=${cfg.deviceProfileId} is not a device profile of this tenant (${describeError(e)})`,
          hint: 'Use the UUID of an existing device profile, or leave DEVICE_PROFILE_ID empty for the default profile.',
        });
      }
      throw e;
    }
  }
  if (cfg.deviceType) return { id: null, type: cfg.deviceType };
  return { id: (await defaultDeviceProfile(client)).id.id };
}

/** The configured label (when DEVICE_LABEL is set) and profile (by id, else by DEVICE_TYPE) that `d` lacks. */
export function driftOf(d: TbDevice, cfg: ResolvedConfig, profile: { id: string | null; type?: string }): Drift {
  const out: Drift = {};
  if (cfg.deviceLabel && d.label !== cfg.deviceLabel) out.label = [d.label ?? null, cfg.deviceLabel];
  if (profile.id && d.deviceProfileId?.id !== profile.id) out.deviceProfileId = [d.deviceProfileId?.id ?? null, profile.id];
  else if (!profile.id && profile.type && d.type !== profile.type) out.type = [d.type ?? null, profile.type];
  return out;
}

/** The warning for reused devices left differing from the configuration (`update: false`), or null when none do. */
export function driftWarning(drift: Record<string, Drift>): string | null {
  const drifted = Object.keys(drift).sort(compareNames);
  if (!drifted.length) return null;
  type Field = [string, [string | null, string]];
  const field = ([k, [has, want]]: Field) => `${k} ${JSON.stringify(has)} (configured ${JSON.stringify(want)})`;
  const show = (n: string) => `${n} ${(Object.entries(drift[n]) as Field[]).map(field).join(', ')}`;
  const list = `${drifted.slice(0, 5).map(show).join('; ')}${drifted.length > 5 ? '; …' : ''}`;
  return `warning: ${drifted.length} reused device(s) differ from the configuration and were left as they are (--no-update): ${list}`;
}
