// How often a running lab checkpoints its report. A checkpoint carries every device's record
// (~280 bytes each), so at a fixed 5 s a 100,000-device run wrote ~27 MB twice every 5 s and spent
// ~5 % of a core on it (bench/supervisor-scale.ts, docs/scaling.md#supervisor-costs-at-scale):
// past CHECKPOINT_MIN_MS worth of devices, the period grows with the fleet, so the checkpoint's
// bytes per second and the supervisor's share of a core for it stay bounded whatever the fleet.

/** The period of small fleets, ms: what a crash (`kill -9`) of the lab loses at most. */
export const CHECKPOINT_MIN_MS = 5000;
/** Period per device past the minimum, ms: 25,000 devices → 5 s, 100,000 → 20 s. */
export const CHECKPOINT_MS_PER_DEVICE = 0.2;

/** The checkpoint period of a lab running `devices` devices, ms (whole seconds). */
export function checkpointIntervalMs(devices: number): number {
  const ms = Math.max(CHECKPOINT_MIN_MS, devices * CHECKPOINT_MS_PER_DEVICE);
  return Math.ceil(ms / 1000) * 1000;
}
