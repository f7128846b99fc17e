// Ingest and read-back: stores telemetry rows and attributes per device, keeps activity, totals
// and the per-device sequence accounting that /__emulator/stats and the lab's delivery check read.
import type { Device } from './model.js';
import type { AttributeScope } from './device-state.js';
import type { EmulatorEvents, TelemetryEvent } from './events.js';
import type { TelemetryRow } from './payload.js';
import { KeysetRegistry } from './keysets.js';
import { Registry, type RegistryOptions } from './registry.js';
import { Claims } from './claim.js';
import { Provisioning } from './provision.js';

export interface StoreOptions extends RegistryOptions {
  /** Device inactivity timeout for the `active` attribute, ms (ThingsBoard: 600 s). */
  inactivityTimeoutMs: number;
  /** Wall clock, ms (the `active` check). */
  clock: () => number;
}

export interface DeviceStats {
  messages: number;
  dataPoints: number;
  /** Distinct `sequence` values. */
  sequences: number;
  /** Values missing from 1..maxSequence. */
  gaps: number;
  /** Repeated `sequence` values (each repeat counts). */
  duplicates: number;
  minSequence: number;
  maxSequence: number;
  /** Acknowledged but not stored (ingestLoss fault). */
  ingestDropped: number;
  rateLimited: number;
  attributeMessages: number;
  /** First and last stored row time, ms (0 = none). */
  firstTs: number;
  lastTs: number;
  connected: boolean;
  connects: number;
}

export class Store {
  readonly registry: Registry;
  readonly keysets = new KeysetRegistry();
  /** Totals over all devices, including deleted ones. */
  totals = { messages: 0, dataPoints: 0, attributeMessages: 0, ingestDropped: 0, rateLimited: 0, httpThrottled: 0 };
  /** Device ids with a live session (maintained by the MQTT server). */
  readonly connected = new Set<string>();
  /** Device claiming (claim.ts) and provisioning (provision.ts), shared by MQTT and HTTP. */
  readonly claims: Claims;
  readonly provisioning = new Provisioning(this);

  constructor(
    readonly opts: StoreOptions,
    private readonly events: EmulatorEvents,
  ) {
    this.registry = new Registry(opts, events);
    this.claims = new Claims(opts.clock);
  }

  /**
   * Stores one telemetry message (its rows); `now` is the receive time, ms. `transport` = it came from the device
   * (DefaultTransportService records activity for it); a REST save (TelemetryController.saveTelemetry) does not.
   */
  ingestTelemetry(d: Device, rows: TelemetryRow[], now: number, transport = true): void {
    const s = d.state;
    const emit = this.events.listenerCount('telemetry') > 0;
    let points = 0;
    for (const row of rows) {
      const v = row.values;
      const ks = s.lastKeyset >= 0 && this.keysets.matches(s.lastKeyset, v) ? s.lastKeyset : this.keysets.idOf(v);
      s.lastKeyset = ks;
      points += this.keysets.keys[ks].length;
      const seq = v.sequence;
      if (typeof seq === 'number' && Number.isInteger(seq) && seq >= 1) s.sequences.add(seq);
      s.history.append(row.ts, ks, v);
      const prev = s.latestByKeyset.get(ks);
      if (!prev || row.ts >= prev.ts) s.latestByKeyset.set(ks, { ts: row.ts, values: v });
      if (s.firstTs === 0 || row.ts < s.firstTs) s.firstTs = row.ts;
      if (row.ts > s.lastTs) s.lastTs = row.ts;
      if (emit) this.events.emit('telemetry', { deviceId: d.id, deviceName: d.name, ts: row.ts, values: v });
    }
    s.messages++;
    s.dataPoints += points;
    this.totals.messages++;
    this.totals.dataPoints += points;
    if (transport) s.lastActivityTime = now;
  }

  /** Subscribes to every stored telemetry row; returns the unsubscribe function. */
  subscribe(listener: (e: TelemetryEvent) => void): () => void {
    this.events.on('telemetry', listener);
    return () => this.events.off('telemetry', listener);
  }

  saveAttributes(d: Device, scope: AttributeScope, values: Record<string, unknown>, now: number): void {
    const m = d.state.attributes[scope];
    for (const [k, v] of Object.entries(values)) if (v !== null) m.set(k, { lastUpdateTs: now, value: v });
    if (scope === 'CLIENT_SCOPE') {
      d.state.attributeMessages++;
      this.totals.attributeMessages++;
      d.state.lastActivityTime = now;
    }
    this.events.emit('attributes', { deviceId: d.id, deviceName: d.name, scope, values });
  }

  /**
   * The answer to a device's attribute request, as DeviceActorMessageProcessor.getAttributesKvEntries picks the
   * scopes (no names at all: every client and shared attribute; else only the scopes named) and
   * JsonConverter.toJson(GetAttributeResponseMsg) leaves out an empty section (`{}` when nothing matched).
   * `clientKeys`/`sharedKeys`: the comma-split names (JsonMqttAdaptor.toStringSet), null when absent.
   */
  attributeRequest(
    d: Device,
    clientKeys: string[] | null,
    sharedKeys: string[] | null,
  ): { client?: Record<string, unknown>; shared?: Record<string, unknown> } {
    const all = !clientKeys?.length && !sharedKeys?.length;
    const pick = (scope: AttributeScope, want: string[] | null) => {
      const out: Record<string, unknown> = {};
      let n = 0;
      if (all || want?.length) {
        for (const [k, v] of d.state.attributes[scope]) {
          if (all || want!.includes(k)) {
            out[k] = v.value;
            n++;
          }
        }
      }
      return n > 0 ? out : undefined;
    };
    const client = pick('CLIENT_SCOPE', clientKeys);
    const shared = pick('SHARED_SCOPE', sharedKeys);
    return { ...(client && { client }), ...(shared && { shared }) };
  }

  /** The device's server-scope attributes, with the activity ones ThingsBoard maintains. */
  serverAttributes(d: Device, now = this.opts.clock()): Map<string, { lastUpdateTs: number; value: unknown }> {
    const s = d.state;
    const out = new Map(s.attributes.SERVER_SCOPE);
    if (s.lastActivityTime || s.lastConnectTime) {
      const custom = Number(s.attributes.SERVER_SCOPE.get('inactivityTimeout')?.value);
      const timeout = Number.isFinite(custom) && custom > 0 ? custom : this.opts.inactivityTimeoutMs;
      const last = Math.max(s.lastActivityTime, s.lastConnectTime);
      out.set('active', { lastUpdateTs: last, value: now - last <= timeout });
      if (s.lastActivityTime) out.set('lastActivityTime', { lastUpdateTs: s.lastActivityTime, value: s.lastActivityTime });
      if (s.lastConnectTime) out.set('lastConnectTime', { lastUpdateTs: s.lastConnectTime, value: s.lastConnectTime });
      if (s.lastDisconnectTime) out.set('lastDisconnectTime', { lastUpdateTs: s.lastDisconnectTime, value: s.lastDisconnectTime });
    }
    return out;
  }

  /** Latest value and time of every key (or of `keys`) of the device. */
  latest(d: Device, keys?: readonly string[]): Map<string, { ts: number; value: unknown }> {
    const out = new Map<string, { ts: number; value: unknown }>();
    for (const { ts, values } of d.state.latestByKeyset.values()) {
      for (const k in values) {
        const v = values[k];
        if (v === null || (keys && !keys.includes(k))) continue;
        const cur = out.get(k);
        if (!cur || ts >= cur.ts) out.set(k, { ts, value: v });
      }
    }
    return out;
  }

  deviceStats(d: Device): DeviceStats {
    const s = d.state;
    return {
      messages: s.messages,
      dataPoints: s.dataPoints,
      sequences: s.sequences.distinct,
      gaps: s.sequences.gaps,
      duplicates: s.sequences.duplicates,
      minSequence: s.sequences.min,
      maxSequence: s.sequences.max,
      ingestDropped: s.ingestDropped,
      rateLimited: s.rateLimited,
      attributeMessages: s.attributeMessages,
      firstTs: s.firstTs,
      lastTs: s.lastTs,
      connected: this.connected.has(d.id),
      connects: s.connects,
    };
  }
}
