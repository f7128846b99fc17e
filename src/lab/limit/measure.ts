// One run = one step: the StepMeasurement of a run from its final metrics snapshot and the live
// snapshots seen while it held the load (src/metrics/snapshot.ts, a versioned shape). Pure.
import type { MetricsSnapshot } from '../../metrics/snapshot.js';
import type { LabShortfall, StepMeasurement, Vary } from './types.js';
import { generatorShortOf } from './starved.js';

/** What a driver keeps of each live snapshot (one a second). */
export interface LiveSample {
  elapsedSec: number;
  state: MetricsSnapshot['state'];
  sent: number;
  inFlight: number;
  connected: number;
  ackP99Ms: number | null;
  disconnects: number;
}

export function sampleOf(s: MetricsSnapshot): LiveSample {
  const last = s.series[s.series.length - 1];
  return {
    elapsedSec: s.elapsedSec,
    state: s.state,
    sent: s.traffic.sent,
    inFlight: s.traffic.inFlight,
    connected: s.connections.connected,
    ackP99Ms: last?.ackP99Ms ?? null,
    disconnects: s.disconnects.total,
  };
}

export interface RunStepInput {
  vary: Vary;
  asked: number;
  /** The run's final metrics (after its drain). */
  metrics: MetricsSnapshot;
  /** Live samples in arrival order. */
  samples: readonly LiveSample[];
  /** Publishes the target did not store, from a delivery check; null = not checked. */
  lost: number | null;
  ingestP99Ms?: number | null;
  rateLimit?: StepMeasurement['rateLimit'];
  /** `--vary connect-rate`: connects completed per second over the ramp (connect-ramp.ts). */
  connectRatePerSec?: number | null;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

function shortfallOf(m: MetricsSnapshot, sent: number): LabShortfall | null {
  if (m.shards.some((s) => s.state === 'crashed')) return 'shard-crashed';
  if (m.generator.verdict === 'overloaded') return 'schedule-lag';
  // the generator's own resources: connect outcomes carry the errno (src/device/causes.ts)
  const outcomes = Object.keys(m.connections.byOutcome).join(' ');
  if (/EMFILE|ENFILE/.test(outcomes)) return 'open-files';
  if (/EADDRNOTAVAIL|EADDRINUSE/.test(outcomes)) return 'ports';
  if (sent === 0) return 'nothing-sent';
  return null;
}

/**
 * In-flight at one edge of the hold: the median of its first (or last) third of one-second samples.
 * A single sample swings with one slow batch of PUBACKs (a busy host doubles ack latency for a
 * second, and in-flight with it); a backlog that really grows moves the thirds apart all the same.
 */
function edgeMedian(window: readonly LiveSample[], edge: 'start' | 'end'): number {
  const k = Math.max(1, Math.floor(window.length / 3));
  const part = (edge === 'start' ? window.slice(0, k) : window.slice(-k)).map((s) => s.inFlight).sort((a, b) => a - b);
  return part[Math.floor((part.length - 1) / 2)];
}

/**
 * The held window is the samples in state `running` once the fleet is connected (ramp-up and the
 * drain are not the step). Rates and the backlog trend come from that window; latencies from the
 * whole run (its histograms are cumulative), which a hold long against the ramp makes close enough.
 */
export function measureRunStep(i: RunStepInput): StepMeasurement {
  const m = i.metrics;
  const configured = m.connections.configured;
  const held = i.samples.filter((s) => s.state === 'running' && s.connected >= configured);
  const window = held.length >= 2 ? held : i.samples.filter((s) => s.state === 'running');
  const first = window[0];
  const last = window[window.length - 1];
  const span = first && last ? last.elapsedSec - first.elapsedSec : 0;
  const sentPerSec = span > 0 ? (last.sent - first.sent) / span : m.elapsedSec > 0 ? m.traffic.sent / m.elapsedSec : 0;
  const qos1 = m.target.qos === 1;
  const reached =
    i.vary === 'devices'
      ? m.connections.peakConnected
      : i.vary === 'connect-rate'
        ? (i.connectRatePerSec ?? m.connections.succeeded / Math.max(m.elapsedSec, 1))
        : sentPerSec;
  const devices = last?.connected ?? m.connections.connected;
  const inFlightEnd = qos1 && last ? edgeMedian(window, 'end') : null;
  // the lab's own shortfall first; then a generator that was behind and sent clearly less than scheduled
  const disconnects = first && last ? last.disconnects - first.disconnects : m.disconnects.total;
  const produced = generatorShortOf({ metrics: m, sentPerSec, devices, inFlightEnd, disconnects });
  const shortfall = shortfallOf(m, m.traffic.sent) ?? (produced.short ? 'cpu' : null);
  const note =
    shortfall === 'cpu'
      ? `sent ${n(sentPerSec)} of ${n(produced.scheduledPerSec)} msg/s scheduled, generator ${m.generator.verdict}` +
        (m.generator.notes[0] ? `: ${m.generator.notes[0]}` : '')
      : (m.generator.notes[0] ?? shortfall);
  return {
    asked: i.asked,
    reached: Math.round(reached * 10) / 10,
    sentPerSec: Math.round(sentPerSec * 10) / 10,
    holdSec: Math.round(span),
    devices,
    sent: m.traffic.sent,
    acked: qos1 ? m.traffic.acked : null,
    lost: i.lost,
    ackP50Ms: qos1 ? m.latency.ackMs.p50 : null,
    ackP99Ms: qos1 ? m.latency.ackMs.p99 : null,
    ingestP99Ms: i.ingestP99Ms ?? null,
    connectP99Ms: m.latency.connectMs.p99,
    inFlightStart: qos1 && first ? edgeMedian(window, 'start') : null,
    inFlightEnd,
    disconnects,
    connectAttempts: m.connections.attempts,
    connectFailures: m.connections.failed,
    rateLimit: i.rateLimit ?? null,
    generator: {
      verdict: m.generator.verdict,
      scheduleLagP99Ms: m.generator.scheduleLagP99Ms,
      shortfall,
      ...(shortfall ? { note } : {}),
    },
    seconds: window.map((s, k) => ({
      ackP99Ms: s.ackP99Ms,
      inFlight: qos1 ? s.inFlight : null,
      disconnects: k === 0 ? 0 : s.disconnects - window[k - 1].disconnects,
    })),
  };
}
