// Builds a shard's overlay workloads (`rpc`, `attributes`: ./overlay.ts) from its settings, on
// the MQTT sessions of its `device` rows. Each reports into its workload's meter.
import type { WorkloadMeter } from '../metrics/workload-meter.js';
import type { MqttVersion } from './packets.js';
import { OverlaySet } from './overlay-set.js';
import { RpcOverlay, type RpcSettings } from './rpc-overlay.js';
import { AttributeOverlay, type AttributeSettings } from './attribute-overlay.js';
import type { WorkloadClock } from './workload.js';

export type { RpcSettings, AttributeSettings };

export interface OverlaySettings {
  mqttVersion: MqttVersion;
  /** Present when the run has the `rpc` workload (this shard's share of its rates). */
  rpc?: RpcSettings;
  /** Present when the run has the `attributes` workload. */
  attributes?: AttributeSettings;
}

/** The overlays of one shard, or null when the run has none. `devices[i].id`: ThingsBoard's device id of row i. */
export function createOverlays(
  settings: OverlaySettings,
  devices: readonly { id?: string }[],
  clock: WorkloadClock,
  meter: (name: 'rpc' | 'attributes') => WorkloadMeter,
): OverlaySet | null {
  if (!settings.rpc && !settings.attributes) return null;
  const ids = devices.map((d) => d.id ?? '');
  const set = new OverlaySet(devices.length, settings.mqttVersion);
  if (settings.rpc) set.add(new RpcOverlay(settings.rpc, ids, set, clock, meter('rpc')));
  if (settings.attributes) set.add(new AttributeOverlay(settings.attributes, ids, set, clock, meter('attributes')));
  return set;
}
