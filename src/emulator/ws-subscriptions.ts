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
  /**
   * TIMESERIES: newest ts sent per key (TbTimeSeriesSubscription.keyStates); with `keys`, only these keys are
   * followed. `latestValues` (scope LATEST_TELEMETRY) drops updates older than that state.
   */
  state: Map<string, number>;
  latestValues: boolean;
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
    if (cmd.entityType !== 'DEVICE')
      return errorUpdate(cmd.cmdId, 2, `Entity type ${cmd.entityType} is not supported by the emulator (DEVICE only)`);
    const d = this.store.registry.devices.get(cmd.entityId.toLowerCase());
    if (!d) return errorUpdate(cmd.cmdId, 2, "Device with requested id wasn't found!");
    if (cmd.kind === 'ATTRIBUTES' && cmd.scope !== undefined && !SCOPES.includes(cmd.scope as AttributeScope)) {
      return errorUpdate(cmd.cmdId, 2, `Unknown attribute scope ${cmd.scope}`);
    }
    const sub: Sub = { sink, cmd, state: new Map(), latestValues: cmd.kind === 'TIMESERIES' && cmd.scope === 'LATEST_TELEMETRY' };
    let set = this.byDevice.get(d.id);
    if (!set) this.byDevice.set(d.id, (set = new Set()));
    set.add(sub);
    // only listen to stored rows while someone subscribed: ingest skips emitting when nobody listens
    if (cmd.kind === 'TIMESERIES' && this.telemetrySubs++ === 0) this.events.on('telemetry', this.onTelemetry);
    sink.send(cmd.kind === 'TIMESERIES' ? this.tsSnapshot(d, sub) : this.attrSnapshot(d, cmd));
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

  /**
   * DefaultWebSocketService.handleWsTimeSeriesSubscriptionByKeys: with keys and a `timeWindow`, the rows in
   * [startTs, startTs + timeWindow) (startTs absent = 0, as the command's default); with keys and no window, the
   * latest values, each key's state starting at the subscription time. handleWsTimeSeriesSubscription: without
   * keys, the latest values of every key (a window is ignored).
   */
  private tsSnapshot(d: Device, sub: Sub): WsUpdate {
    const cmd = sub.cmd;
    const points: [string, number, unknown][] = [];
    if (cmd.keys && cmd.timeWindow > 0) {
      const start = cmd.startTs ?? 0;
      for (const k of cmd.keys) sub.state.set(k, start);
      for (const k of cmd.keys) {
        for (const p of d.state.history.recent(k, start, start + cmd.timeWindow).slice(0, cmd.limit)) points.push([k, p.ts, p.value]);
      }
    } else {
      if (cmd.keys) for (const k of cmd.keys) sub.state.set(k, this.store.opts.clock());
      for (const [k, p] of this.store.latest(d, cmd.keys)) points.push([k, p.ts, p.value]);
    }
    const u = update(cmd.cmdId, points);
    for (const k in u.latestValues) sub.state.set(k, u.latestValues[k]);
    return u;
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

  /** DefaultTbLocalSubscriptionService.onTimeSeriesUpdate: filters by the subscription's key states. */
  private telemetry(e: TelemetryEvent): void {
    const set = this.byDevice.get(e.deviceId);
    if (!set) return;
    for (const sub of set) {
      const { sink, cmd, state } = sub;
      if (cmd.kind !== 'TIMESERIES') continue;
      const points: [string, number, unknown][] = [];
      for (const k in e.values) {
        const v = e.values[k];
        if (v === null) continue;
        const known = state.get(k);
        if (cmd.keys && known === undefined) continue;
        if (sub.latestValues && known !== undefined && e.ts < known) continue;
        points.push([k, e.ts, v]);
      }
      if (points.length === 0) continue;
      const u = update(cmd.cmdId, points);
      for (const k in u.latestValues) state.set(k, u.latestValues[k]);
      sink.send(u);
    }
  }

  private attributes(e: { deviceId: string; scope: AttributeScope; values: Record<string, unknown> }): void {
    const set = this.byDevice.get(e.deviceId);
    if (!set) return;
    const now = this.store.opts.clock();
    for (const { sink, cmd } of set) {
      if (cmd.kind !== 'ATTRIBUTES' || (cmd.scope && cmd.scope !== e.scope)) continue;
      const points: [string, number, unknown][] = [];
      for (const [k, v] of Object.entries(e.values)) if (v !== null && (!cmd.keys || cmd.keys.includes(k))) points.push([k, now, v]);
      if (points.length) sink.send(update(cmd.cmdId, points));
    }
  }
}
