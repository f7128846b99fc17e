// The baseline writer sends a fixed payload as large as the lab's average telemetry payload,
// so both put the same bytes on the wire.
import { TelemetryPayload } from '../../src/device/payload.js';
import { benchFleet } from './lab-fleet.js';

/** Mean size of the lab's telemetry payload for a fleet of `devices`, bytes (2,000 samples). */
export function labPayloadBytes(devices = 10_000): number {
  const fleet = benchFleet(devices);
  const p = new TelemetryPayload(fleet);
  let bytes = 0;
  const samples = 2000;
  const now = Date.now();
  for (let k = 0; k < samples; k++) bytes += Buffer.byteLength(p.next(k % devices, 1 + Math.floor(k / devices), now));
  return Math.round(bytes / samples);
}
