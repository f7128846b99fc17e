// Live subscriptions of the WebSocket API: per device, the TIMESERIES and ATTRIBUTES commands of
// every session, their first snapshot and the updates pushed as rows are stored (after any
// processing delay, as ThingsBoard pushes after its rule engine saved them).
import type { Store } from './store.js';
import type { Device } from './model.js';
import type { AttributeScope } from './device-state.js';
import type { EmulatorEvents, TelemetryEvent } from './events.js';
import { formatValue } from './timeseries.js';
import type { SubscribeCmd, WsErrorCode } from './ws-commands.js';

/** `TelemetrySubscriptionUpdate` as it goes on the wire. */
export interface WsUpdate {
  subscriptionId: number;
  errorCode: number;
  errorMsg: string | null;
  data: Record<string, [number, string][]>;
  latestValues: Record<string, number>;
}

/** What a subscription needs from its session. */
export interface WsSink {
  send(update: WsUpdate): void;
}

interface Sub {
  sink: WsSink;
  cmd: SubscribeCmd;
}

const SCOPES: AttributeScope[] = ['CLIENT_SCOPE', 'SERVER_SCOPE', 'SHARED_SCOPE'];

export function errorUpdate(cmdId: number, errorCode: WsErrorCode, errorMsg: string): WsUpdate {
  return { subscriptionId: cmdId, errorCode, errorMsg, data: {}, latestValues: {} };
}

/** Builds an update from (key, ts, value) triples: keys sorted, values as strings. */
function update(cmdId: number, points: Iterable<[string, number, unknown]>): WsUpdate {
  const data: Record<string, [number, string][]> = {};
  const latestValues: Record<string, number> = {};
  for (const [k, ts, v] of points) {
    (data[k] ??= []).push([ts, formatValue(v, false) as string]);
    latestValues[k] = Math.max(latestValues[k] ?? 0, ts);
  }
  const sorted: Record<string, [number, string][]> = {};
  for (const k of Object.keys(data).sort()) sorted[k] = data[k];
  return { subscriptionId: cmdId, errorCode: 0, errorMsg: null, data: sorted, latestValues };
}

export class WsSubscriptions {
  /** device id → subscriptions on it. */
  private readonly byDevice = new Map<string, Set<Sub>>();
  private telemetrySubs = 0;
  private readonly onTelemetry = (e: TelemetryEvent) => this.telemetry(e);
  private readonly onAttributes = (e: { deviceId: string; scope: AttributeScope; values: Record<string, unknown> }) => this.attributes(e);

  constructor(
    private readonly store: Store,
    private readonly events: EmulatorEvents,
  ) {
    events.on('attributes', this.onAttributes);
  }

  /** Registers the command and sends its snapshot; returns the handle to remove it, or an error update. */
  add(sink: WsSink, cmd: SubscribeCmd): { remove(): void } | WsUpdate {
    if (cmd.entityType !== 'DEVICE') return errorUpdate(cmd.cmdId, 2, `Entity type ${cmd.entityType} is not supported by the emulator (DEVICE only)`);
    const d = this.store.registry.devices.get(cmd.entityId.toLowerCase());
    if (!d) return errorUpdate(cmd.cmdId, 2, "Device with requested id wasn't found!");
    if (cmd.kind === 'ATTRIBUTES' && cmd.scope !== undefined && !SCOPES.includes(cmd.scope as AttributeScope)) {
      return errorUpdate(cmd.cmdId, 2, `Unknown attribute scope ${cmd.scope}`);
    }
    const sub: Sub = { sink, cmd };
    let set = this.byDevice.get(d.id);
    if (!set) this.byDevice.set(d.id, (set = new Set()));
    set.add(sub);
    // only listen to stored rows while someone subscribed: ingest skips emitting when nobody listens
    if (cmd.kind === 'TIMESERIES' && this.telemetrySubs++ === 0) this.events.on('telemetry', this.onTelemetry);
    sink.send(cmd.kind === 'TIMESERIES' ? this.tsSnapshot(d, cmd) : this.attrSnapshot(d, cmd));
    let removed = false;
    return {
      remove: () => {
        if (removed) return;
        removed = true;
        set.delete(sub);
        if (set.size === 0) this.byDevice.delete(d.id);
        if (cmd.kind === 'TIMESERIES' && --this.telemetrySubs === 0) this.events.off('telemetry', this.onTelemetry);
      },
    };
  }

  close(): void {
    this.events.off('attributes', this.onAttributes);
    this.events.off('telemetry', this.onTelemetry);
    this.byDevice.clear();
    this.telemetrySubs = 0;
  }

  private tsSnapshot(d: Device, cmd: SubscribeCmd): WsUpdate {
    if (cmd.timeWindow > 0 || cmd.startTs !== undefined) {
      const now = Date.now();
      const start = cmd.startTs ?? now - cmd.timeWindow;
      const end = cmd.startTs !== undefined && cmd.timeWindow > 0 ? start + cmd.timeWindow : now + 1;
      const keys = cmd.keys ?? [...this.store.latest(d).keys()];
      const points: [string, number, unknown][] = [];
      for (const k of keys) for (const p of d.state.history.recent(k, start, end).slice(0, cmd.limit)) points.push([k, p.ts, p.value]);
      return update(cmd.cmdId, points);
    }
    return update(cmd.cmdId, [...this.store.latest(d, cmd.keys)].map(([k, p]) => [k, p.ts, p.value] as [string, number, unknown]));
  }

  private attrSnapshot(d: Device, cmd: SubscribeCmd): WsUpdate {
    const scopes = cmd.scope ? [cmd.scope as AttributeScope] : SCOPES;
    const points: [string, number, unknown][] = [];
    for (const s of scopes) {
      const m = s === 'SERVER_SCOPE' ? this.store.serverAttributes(d) : d.state.attributes[s];
      for (const [k, a] of m) if (!cmd.keys || cmd.keys.includes(k)) points.push([k, a.lastUpdateTs, a.value]);
    }
    return update(cmd.cmdId, points);
  }

  private telemetry(e: TelemetryEvent): void {
    const set = this.byDevice.get(e.deviceId);
    if (!set) return;
    for (const { sink, cmd } of set) {
      if (cmd.kind !== 'TIMESERIES') continue;
      const points: [string, number, unknown][] = [];
      for (const k in e.values) {
        const v = e.values[k];
        if (v !== null && (!cmd.keys || cmd.keys.includes(k))) points.push([k, e.ts, v]);
      }
      if (points.length) sink.send(update(cmd.cmdId, points));
    }
  }

  private attributes(e: { deviceId: string; scope: AttributeScope; values: Record<string, unknown> }): void {
    const set = this.byDevice.get(e.deviceId);
    if (!set) return;
    const now = Date.now();
    for (const { sink, cmd } of set) {
      if (cmd.kind !== 'ATTRIBUTES' || (cmd.scope && cmd.scope !== e.scope)) continue;
      const points: [string, number, unknown][] = [];
      for (const [k, v] of Object.entries(e.values)) if (v !== null && (!cmd.keys || cmd.keys.includes(k))) points.push([k, now, v]);
      if (points.length) sink.send(update(cmd.cmdId, points));
    }
  }
}
