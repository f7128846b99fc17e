// Before a run: the devices of this run that are paused by hand (DISABLED_DEVICES_FILE). A run
// whose whole fleet is paused connects nothing and publishes nothing until they are resumed, which
// looks like a dead server unless the console says so, with the command that resumes them.
import type { ResolvedConfig } from '../config/index.js';
import type { FleetDevice } from '../common/fleet.js';
import { readDisabledFile } from './devices.js';

/** The line to print at the start of a run, or null when no device of `fleet` is paused. */
export function pausedNotice(config: ResolvedConfig, fleet: readonly FleetDevice[]): string | null {
  const paused = new Set(readDisabledFile(config.disabledDevicesFile).devices);
  const n = fleet.filter((d) => paused.has(d.name)).length;
  if (n === 0) return null;
  const resume = '`tblab devices activate --all` resumes them (a running lab picks that up live)';
  if (n === fleet.length) {
    return (
      `warning: the whole fleet of this run is paused (${n} devices in ${config.disabledDevicesFile}): ` +
      `nothing connects or publishes until ${resume.replace(' resumes them', ' resumes it')}`
    );
  }
  return `note: ${n} of the ${fleet.length} devices of this run are paused (${config.disabledDevicesFile}); ${resume}`;
}
