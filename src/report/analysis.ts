// Per-device findings of a finished run: devices with errors, devices whose telemetry stalled,
// devices that started late. The definitions here are the ones documented in docs/workflow.md#tblab-report.
import type { DeviceRecord, RunReport } from './schema.js';
import { loadPoints } from '../metrics/thresholds.js';

/** A publish gap longer than this many intervals before the end of the run counts as stalled. */
export const STALL_INTERVALS = 3;
/** Slack after the expected end of the connect ramp: max(this, 2 publish intervals), seconds. */
export const DELAY_SLACK_SEC = 5;

export interface DeviceFinding {
  name: string;
  index: number;
  sent: number;
  failed: number;
  disconnects: number;
  /** Why it is listed, in words: `errors: ack-timeout: 3`, `no publish for 42s`, `connected at +31.2s`. */
  reason: string;
  /** Last disconnect cause, when any. */
  lastCause: string | null;
}

const errorTotal = (d: DeviceRecord) => Object.values(d.errors).reduce((a, b) => a + b, 0);
const lastCause = (d: DeviceRecord) => (d.disconnects.length ? d.disconnects[d.disconnects.length - 1].cause : null);

function finding(name: string, d: DeviceRecord, reason: string): DeviceFinding {
  return { name, index: d.index, sent: d.sent, failed: d.failed, disconnects: d.disconnects.length, reason, lastCause: lastCause(d) };
}

function describeErrors(d: DeviceRecord): string {
  const parts = Object.entries(d.errors)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}: ${n}`);
  if (d.connectedAt === null) parts.unshift('never connected');
  // errors already name the classes of failed connects and publishes; the counters speak only when they do not
  if (errorTotal(d) === 0 && d.connectFailures > 0) parts.push(`connect failures: ${d.connectFailures}`);
  if (errorTotal(d) === 0 && d.failed > 0) parts.push(`failed publishes: ${d.failed}`);
  return parts.join(', ');
}

/** Devices that never connected, or had errors, failed publishes or failed connects; most errors first. */
export function devicesWithErrors(r: RunReport): DeviceFinding[] {
  return Object.entries(r.devices)
    .filter(([, d]) => (d.connectedAt === null && !d.paused) || errorTotal(d) > 0 || d.failed > 0 || d.connectFailures > 0)
    .sort(
      (a, b) =>
        errorTotal(b[1]) + b[1].failed + b[1].connectFailures - (errorTotal(a[1]) + a[1].failed + a[1].connectFailures) ||
        a[1].index - b[1].index,
    )
    .map(([name, d]) => finding(name, d, describeErrors(d)));
}

/**
 * End of the load in ms since epoch: the last timeline point before the stop (the drain that
 * follows publishes nothing on purpose), else endedAt, else start + duration.
 */
export function loadEndMs(r: RunReport): number {
  const last = loadPoints(r.timeline).at(-1);
  if (last) return Date.parse(r.startedAt) + last.t * 1000;
  return r.endedAt ? Date.parse(r.endedAt) : Date.parse(r.startedAt) + r.durationSec * 1000;
}

/**
 * Stalled telemetry: a device that connected and is not paused, whose last publish (or, without
 * any publish, its connect) lies more than STALL_INTERVALS publish intervals before the load ended.
 */
export function stalledDevices(r: RunReport): DeviceFinding[] {
  // overlays alone (rpc, attributes): the devices connect and answer, they publish no telemetry by design
  const w = r.config.workloads;
  if (Array.isArray(w) && w.every((x) => x === 'rpc' || x === 'attributes')) return [];
  const intervalMs = r.metrics.target.publishIntervalSec * 1000;
  const end = loadEndMs(r);
  const limit = end - STALL_INTERVALS * intervalMs;
  const out: Array<{ gap: number; f: DeviceFinding }> = [];
  for (const [name, d] of Object.entries(r.devices)) {
    if (d.paused || d.connectedAt === null) continue;
    const last = d.lastPublishAt ?? d.connectedAt;
    if (last >= limit) continue;
    const gap = (end - last) / 1000;
    const what = d.lastPublishAt === null ? 'connected but never published' : 'no publish';
    out.push({ gap, f: finding(name, d, `${what} for the last ${gap.toFixed(1)}s (${(gap / (intervalMs / 1000)).toFixed(1)} intervals)`) });
  }
  return out.sort((a, b) => b.gap - a.gap || a.f.index - b.f.index).map((x) => x.f);
}

/** How late a first connect may come: expected ramp end + slack, seconds after the start. */
export function delayedStartLimitSec(r: RunReport): number {
  const offsets = connectOffsetsSec(r);
  const configured = r.metrics.connections.configured;
  const rate = Number(r.config.connectRate ?? 0);
  const rampByRate = rate > 0 ? configured / rate : 0;
  const median = offsets.length ? offsets[Math.floor((offsets.length - 1) / 2)] : 0;
  const slack = Math.max(DELAY_SLACK_SEC, 2 * r.metrics.target.publishIntervalSec);
  return Math.max(rampByRate, 2 * median) + slack;
}

/** Seconds from the start to each device's first connect, ascending (a typed array: sorts numerically, fast at 100k). */
function connectOffsetsSec(r: RunReport): Float64Array {
  const start = Date.parse(r.startedAt);
  const out: number[] = [];
  for (const d of Object.values(r.devices)) if (d.connectedAt !== null) out.push((d.connectedAt - start) / 1000);
  return Float64Array.from(out).sort();
}

/**
 * Delayed starts: devices whose first successful connect came after `delayedStartLimitSec` — the
 * ramp is expected to end by max(devices ÷ CONNECT_RATE, 2 × the median connect offset), which
 * covers both a rate-limited and a staged (linear) ramp, plus max(5 s, 2 intervals) of slack.
 */
export function delayedStarts(r: RunReport): DeviceFinding[] {
  const start = Date.parse(r.startedAt);
  const limit = delayedStartLimitSec(r);
  return Object.entries(r.devices)
    .filter(([, d]) => d.connectedAt !== null && (d.connectedAt - start) / 1000 > limit)
    .sort((a, b) => (b[1].connectedAt as number) - (a[1].connectedAt as number) || a[1].index - b[1].index)
    .map(([name, d]) => {
      const tries = d.connects + d.connectFailures;
      return finding(
        name,
        d,
        `connected at +${(((d.connectedAt as number) - start) / 1000).toFixed(1)}s${tries > 1 ? ` after ${d.connectFailures} failed attempt(s)` : ''}`,
      );
    });
}

/** The first `n` devices by index. */
export function firstDevices(r: RunReport, n = 20): Array<[string, DeviceRecord]> {
  return Object.entries(r.devices)
    .sort((a, b) => a[1].index - b[1].index)
    .slice(0, n);
}
