// What a run derives from its options before the first shard process is forked: the settings every
// shard receives, the run's header for the aggregator (target as the report shows it, devices per shard)
// and the warnings about source addresses (and, later, the notes on a crashed shard). Plain functions,
// kept apart from the supervisor, which owns the processes, timers and files.
import { redactUrl } from '../common/redact.js';
import { devicesPerEndpoint, endpointKey, endpointLabel, targetEndpoints } from '../common/endpoints.js';
import type { AggregatorMeta, RowTotals } from './aggregate.js';
import type { ShardSlice } from './plan.js';
import type { ShardDevice, ShardSettings } from './protocol.js';
import type { EngineConfig, EngineOptions } from './results.js';
import { parseStages } from './stages.js';

/** The settings every shard process receives in its `init` message; bad stages fail here. */
export function shardSettings(opts: EngineOptions, slices: number, t0: number): ShardSettings {
  const cfg = opts.config;
  const stages = parseStages(cfg.stages);
  return {
    host: cfg.mqttHost,
    port: cfg.mqttPort,
    endpoints: targetEndpoints(cfg),
    tls: cfg.mqttTls
      ? { caFile: cfg.mqttCaFile, certFile: cfg.mqttCertFile, keyFile: cfg.mqttKeyFile, insecure: cfg.mqttTlsInsecure }
      : null,
    mqttVersion: cfg.mqttVersion,
    qos: cfg.qos as 0 | 1,
    keepaliveSec: cfg.keepaliveSec,
    intervalMs: cfg.publishIntervalSec * 1000,
    jitterMs: cfg.publishJitterMs,
    ackTimeoutMs: cfg.ackTimeoutMs,
    connectTimeoutMs: cfg.connectTimeoutMs,
    reconnect: cfg.reconnect,
    reconnectMinMs: cfg.reconnectMinMs,
    reconnectMaxMs: cfg.reconnectMaxMs,
    connectRate: cfg.connectRate / slices,
    // a fleet-wide cap split over the shards, like the rate
    connectMaxInProgress: cfg.connectMaxInProgress > 0 ? Math.max(1, Math.ceil(cfg.connectMaxInProgress / slices)) : 0,
    sourceAddresses: [...cfg.sourceAddresses],
    ...(cfg.payloadTemplate ? { payloadTemplate: cfg.payloadTemplate } : {}),
    logEveryMessage: cfg.logEveryMessage,
    stages,
    fleetSize: opts.fleetSize ?? Math.max(1, ...opts.fleet.map((d) => d.index)),
    t0,
    tickMs: opts.tickMs ?? 5,
    workloads: [...(cfg.workloads ?? ['device'])],
    // the overlays' rates are split evenly: shards hold equal slices of the fleet (plan.ts), ±1 device
    ...(cfg.rpc && cfg.tbUrl
      ? { rpc: { ...cfg.rpc, restUrl: cfg.tbUrl, rate: cfg.rpc.rate / slices, clientRate: cfg.rpc.clientRate / slices } }
      : {}),
    ...(cfg.attributes && cfg.tbUrl
      ? {
          attributes: {
            ...cfg.attributes,
            restUrl: cfg.tbUrl,
            rate: cfg.attributes.rate / slices,
            requestRate: cfg.attributes.requestRate / slices,
          },
        }
      : {}),
    ...(opts.fleet.some((d) => d.workload === 'http')
      ? { http: { url: cfg.httpUrl ?? opts.restUrl ?? '', connections: Math.max(1, Math.ceil((cfg.httpConnections ?? 64) / slices)) } }
      : {}),
  };
}

/** The aggregator's view of the run: ids, the target as the report shows it (redacted), devices per shard. */
export function runHeader(opts: EngineOptions, runId: string, startedAt: number, slices: ShardSlice[]): AggregatorMeta {
  const cfg = opts.config;
  const endpoints = targetEndpoints(cfg);
  const labels = endpoints.map(endpointLabel);
  const perEndpoint = devicesPerEndpoint(opts.fleet.map(endpointKey), endpoints.length);
  return {
    runId,
    instance: cfg.instance ? `${cfg.instance.index}/${cfg.instance.count}` : null,
    startedAt,
    target: {
      mqtt: `${cfg.mqttTls ? 'mqtts' : 'mqtt'}://${labels.join(',')}`,
      rest: redactUrl(opts.restUrl),
      qos: cfg.qos as 0 | 1,
      mqttVersion: cfg.mqttVersion,
      publishIntervalSec: cfg.publishIntervalSec,
    },
    shards: slices.map((s) => ({
      id: s.id,
      names: opts.fleet.slice(s.start, s.end).map((d) => d.name),
      indices: opts.fleet.slice(s.start, s.end).map((d) => d.index),
    })),
    endpoints: labels.map((endpoint, e) => ({ endpoint, devices: perEndpoint[e] })),
    collapseShare: cfg.collapseShare,
    collapseWindowSec: cfg.collapseWindowSec,
  };
}

/** Warnings for fleets too large for their source addresses (bind() cost, ephemeral ports). */
export function sourceAddressNotes(cfg: EngineConfig, devices: number): string[] {
  const notes: string[] = [];
  const perAddress = cfg.sourceAddresses.length ? Math.ceil(devices / cfg.sourceAddresses.length) : 0;
  if (perAddress > 5000) {
    notes.push(`${perAddress} connections per source address: bind() slows down past ~5,000 per address (add SOURCE_ADDRESSES).`);
  }
  if (!cfg.sourceAddresses.length && devices > 25_000) {
    notes.push(
      `${devices} connections from one source address: the ephemeral port range (~28k) may run out (EADDRNOTAVAIL); set SOURCE_ADDRESSES.`,
    );
  }
  return notes;
}

/** The run's notes on a shard that ended without its final snapshot; `ahead`: what its counters had beyond its rows. */
export function crashNotes(slice: ShardSlice, pid: number | undefined, exit: string | undefined, ahead: RowTotals): string[] {
  const id = slice.id;
  const notes = [`shard ${id} (pid ${pid}) crashed (${exit}); its ${slice.end - slice.start} devices stopped, the other shards go on`];
  if (ahead.sent > 0 || ahead.acked > 0 || ahead.failed > 0) {
    notes.push(
      `shard ${id}: the totals are the sums of its devices' last records; ${ahead.sent} sent, ` +
        `${ahead.acked} acked and ${ahead.failed} failed it counted after them (its last seconds) are not in the report ` +
        '(the delivery check sees what the server stored)',
    );
  }
  if (ahead.unacked > 0)
    notes.push(`shard ${id}: ${ahead.unacked} publish(es) of its devices were waiting for a PUBACK at their last record: outcome unknown`);
  return notes;
}

/** The devices of one shard's slice as its `init` message carries them (only the fields a shard uses). */
export function shardDevices(fleet: EngineOptions['fleet'], slice: ShardSlice): ShardDevice[] {
  return fleet.slice(slice.start, slice.end).map((d) => ({
    name: d.name,
    index: d.index,
    id: d.id,
    credentials: d.credentials,
    ...(d.workload ? { workload: d.workload } : {}),
    ...(d.gateway ? { gateway: d.gateway } : {}),
    ...(d.phase !== undefined ? { phase: d.phase } : {}),
  }));
}

/** The run's first log line: fleet, shards, target (URLs redacted), QoS, interval, length. */
export function runLine(opts: EngineOptions, runId: string, shards: number, settings: ShardSettings, durationSec: number): string {
  const cfg = opts.config;
  const endpoints = targetEndpoints(cfg).map(endpointLabel);
  const mqtt = endpoints.length > 1 ? `${endpoints.length} endpoints (${endpoints.join(', ')})` : endpoints[0];
  const http = settings.http ? `HTTP ${opts.fleet.filter((d) => d.workload === 'http').length} → ${redactUrl(settings.http.url)}` : '';
  const to = `${mqtt}${http ? ` (${http})` : ''}`;
  const length = durationSec ? `${durationSec} s` : 'until stopped';
  return `run ${runId}: ${opts.fleet.length} devices in ${shards} shard(s) → ${to}, QoS ${cfg.qos}, every ${cfg.publishIntervalSec} s, ${length}`;
}
