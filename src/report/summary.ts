// The human summary of one run (`tblab report`, the end of `tblab suite`): global metrics, the
// devices worth a look, thresholds. Plain text meant to be pasted into an incident report.
import type { Percentiles } from '../metrics/snapshot.js';
import { PARTIAL_NOTE, type RunReport } from './schema.js';
import {
  devicesWithErrors,
  stalledDevices,
  delayedStarts,
  firstDevices,
  delayedStartLimitSec,
  STALL_INTERVALS,
  type DeviceFinding,
} from './analysis.js';
import { renderThresholds, thresholdInputFromReport } from './thresholds.js';
import { loadPoints } from '../metrics/thresholds.js';
import { deliverySummary } from './delivery-summary.js';
import { serverSummary } from './server-summary.js';
import { renderTable, num, ms, pct, bytes, duration, counts } from './table.js';
import { redactUrl } from '../common/redact.js';
import { workloadsSection } from './workloads-text.js';

/** Devices listed per finding section before "… and N more". */
const LIST_LIMIT = 20;

/** The derived numbers of a run (what `tblab report --json` prints). */
export interface RunSummary {
  runId: string;
  outcome: RunReport['outcome'];
  endReason: string;
  startedAt: string;
  endedAt: string | null;
  durationSec: number;
  /** Seconds under load (start → stop); averages per second use it. */
  loadSec: number;
  devices: number;
  /** `final`: connected when the load ended (before the stop); `min`: connected_min after ramp-up. */
  connections: {
    peak: number;
    final: number;
    min: number | null;
    attempts: number;
    succeeded: number;
    failed: number;
    byOutcome: Record<string, number>;
  };
  traffic: {
    sent: number;
    acked: number;
    failed: number;
    skipped: number;
    inFlight: number;
    bytesSent: number;
    avgMsgPerSec: number;
    peakMsgPerSec: number;
    avgMbitPerSec: number;
    avgPayloadBytes: number | null;
    avgSentPerDevice: number;
    ackRatio: number | null;
    failedRatio: number | null;
  };
  latency: { ackMs: Percentiles; connectMs: Percentiles; scheduleLagMs: Percentiles };
  disconnects: RunReport['metrics']['disconnects'];
  errors: RunReport['metrics']['errors'];
  collapse: RunReport['metrics']['collapse'];
  generator: RunReport['metrics']['generator'];
  delivery: NonNullable<RunReport['delivery']>['totals'] | null;
  /** The delivery check in words (totals, devices with loss, ingest latency, rate limits). */
  deliveryLines: string[];
  thresholds: RunReport['thresholds'];
  devicesWithErrors: DeviceFinding[];
  stalled: DeviceFinding[];
  delayedStarts: DeviceFinding[];
  /** Seconds after the start past which a first connect counts as delayed. */
  delayedStartLimitSec: number;
  firstDevices: Array<{ name: string; sent: number; acked: number; failed: number; disconnects: number; connectMs: number | null }>;
}

export function summarize(r: RunReport): RunSummary {
  const m = r.metrics;
  const t = m.traffic;
  const ti = thresholdInputFromReport(r);
  const dur = ti.elapsedSec > 0 ? ti.elapsedSec : null;
  return {
    runId: r.runId,
    outcome: r.outcome,
    endReason: r.endReason,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    durationSec: r.durationSec,
    loadSec: ti.elapsedSec,
    devices: m.connections.configured,
    connections: {
      peak: m.connections.peakConnected,
      final: ti.connectedFinal,
      min: ti.connectedMin,
      attempts: m.connections.attempts,
      succeeded: m.connections.succeeded,
      failed: m.connections.failed,
      byOutcome: m.connections.byOutcome,
    },
    traffic: {
      sent: t.sent,
      acked: t.acked,
      failed: t.failed,
      skipped: t.skipped,
      inFlight: t.inFlight,
      bytesSent: t.bytesSent,
      avgMsgPerSec: dur ? t.sent / dur : 0,
      peakMsgPerSec: Math.max(0, ...loadPoints(r.timeline).map((p) => p.sentPerSec)),
      avgMbitPerSec: dur ? (t.bytesSent * 8) / 1e6 / dur : 0,
      avgPayloadBytes: t.sent > 0 ? t.bytesSent / t.sent : null,
      avgSentPerDevice: t.avgSentPerDevice,
      ackRatio: t.sent > 0 && m.target.qos === 1 ? t.acked / t.sent : null,
      failedRatio: t.sent > 0 ? t.failed / t.sent : null,
    },
    latency: m.latency,
    disconnects: m.disconnects,
    errors: m.errors,
    collapse: m.collapse,
    generator: m.generator,
    delivery: r.delivery?.totals ?? null,
    deliveryLines: r.delivery ? deliverySummary(r.delivery) : [],
    thresholds: r.thresholds,
    devicesWithErrors: devicesWithErrors(r),
    stalled: stalledDevices(r),
    delayedStarts: delayedStarts(r),
    delayedStartLimitSec: delayedStartLimitSec(r),
    firstDevices: firstDevices(r).map(([name, d]) => ({
      name,
      sent: d.sent,
      acked: d.acked,
      failed: d.failed,
      disconnects: d.disconnects.length,
      connectMs: d.connectMs,
    })),
  };
}

const kv = (pairs: ReadonlyArray<[string, string]>) => {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${(k + ':').padEnd(w + 1)} ${v}`).join('\n');
};

function findings(title: string, list: readonly DeviceFinding[], note: string): string {
  if (list.length === 0) return `${title}: none (${note})`;
  const rows = list.slice(0, LIST_LIMIT).map((f) => [f.name, num(f.sent), num(f.failed), num(f.disconnects), f.reason, f.lastCause ?? '']);
  const more = list.length > LIST_LIMIT ? `\n  … and ${list.length - LIST_LIMIT} more (tblab report --json lists all)` : '';
  return `${title}: ${list.length} (${note})\n${renderTable(['device', 'sent', 'failed', 'disconnects', 'why', 'last disconnect'], rows, { indent: 2 })}${more}`;
}

/** Renders the summary as plain text (no colours), sections separated by blank lines. */
export function renderSummary(r: RunReport, s: RunSummary = summarize(r)): string {
  const m = r.metrics;
  const lat = (name: string, p: Percentiles) => [
    name,
    num(p.count),
    ms(p.p50),
    ms(p.p90),
    ms(p.p95),
    ms(p.p99),
    ms(p.p999),
    ms(p.max),
    ms(p.mean),
  ];
  const sections = [
    `Run ${s.runId}: ${s.outcome === 'partial' ? `PARTIAL — ${PARTIAL_NOTE} (${m.at})` : `${s.outcome} (${s.endReason})`}\n` +
      kv([
        ['started', s.startedAt],
        ['ended', s.endedAt ?? '—'],
        ['duration', `${duration(s.durationSec)} (${duration(s.loadSec)} under load)`],
        ['target', `${redactUrl(m.target.mqtt)} (MQTT ${m.target.mqttVersion}, QoS ${m.target.qos})${restPart(m.target.rest)}`],
        [
          'devices',
          `${num(s.devices)}, one publish every ${num(m.target.publishIntervalSec, 3)}s each${r.instance ? `, instance ${r.instance}` : ''}`,
        ],
        [
          'generator',
          `${m.generator.verdict}${m.generator.notes.length ? ` (${m.generator.notes.join('; ')})` : ''}; event-loop delay p99 ${ms(m.generator.eventLoopDelayP99Ms)}, schedule lag p99 ${ms(m.generator.scheduleLagP99Ms)}, CPU ${m.generator.cpuPercent === null ? '—' : num(m.generator.cpuPercent, 0) + '%'}, RSS ${num(m.generator.rssMB, 0)} MB`,
        ],
      ]),
    'Connections\n' +
      kv([
        ['peak / final', `${num(s.connections.peak)} / ${num(s.connections.final)} of ${num(s.devices)}`],
        ['min after ramp-up', s.connections.min === null ? '—' : num(s.connections.min)],
        ['attempts', `${num(s.connections.attempts)} (${num(s.connections.succeeded)} succeeded, ${num(s.connections.failed)} failed)`],
        ['outcomes', counts(s.connections.byOutcome)],
        [
          'collapse',
          s.collapse
            ? `at +${num(s.collapse.elapsedSec, 1)}s (${s.collapse.at}): ${s.collapse.kind}, ${num(s.collapse.connectedAtCollapse)} of peak ${num(s.collapse.peakConnected)} connected, dominant cause ${s.collapse.dominantCause}`
            : 'none',
        ],
      ]),
    'Traffic\n' +
      kv([
        [
          'sent / acked / failed',
          `${num(s.traffic.sent)} / ${num(s.traffic.acked)} / ${num(s.traffic.failed)}  (ack ratio ${pct(s.traffic.ackRatio, 3)}, failed ratio ${pct(s.traffic.failedRatio, 3)})`,
        ],
        ['skipped / in flight', `${num(s.traffic.skipped)} / ${num(s.traffic.inFlight)}`],
        ['messages per second', `${num(s.traffic.avgMsgPerSec, 1)} average, ${num(s.traffic.peakMsgPerSec, 1)} peak`],
        ['bandwidth out', `${bytes(s.traffic.bytesSent)} total, ${num(s.traffic.avgMbitPerSec, 3)} Mbit/s average`],
        [
          'averages',
          `${s.traffic.avgPayloadBytes === null ? '—' : num(s.traffic.avgPayloadBytes, 0) + ' B'} per publish, ${num(s.traffic.avgSentPerDevice, 1)} publishes per device`,
        ],
      ]),
    'Latency\n' +
      renderTable(
        ['', 'count', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean'],
        [lat('publish → ack', s.latency.ackMs), lat('connect', s.latency.connectMs), lat('schedule lag', s.latency.scheduleLagMs)],
        { indent: 2 },
      ),
    'Disconnects and errors\n' +
      kv([
        [
          'disconnects',
          `${num(s.disconnects.total)}${s.disconnects.total ? ` — by cause: ${counts(s.disconnects.byCause)}; by class: ${counts(s.disconnects.byClass as Record<string, number>)}` : ''}`,
        ],
        ['errors', `${num(s.errors.total)}${s.errors.total ? ` — ${counts(s.errors.byClass)}` : ''}`],
      ]),
  ];
  const ends = m.endpoints ?? []; // absent in reports of metrics schema 1
  if (ends.length > 1)
    sections.push(
      `MQTT endpoints (device i on endpoint (i − 1) mod ${ends.length})\n` +
        renderTable(
          ['endpoint', 'devices', 'attempts', 'succeeded', 'failed', 'connect p50', 'connect p99', 'disconnects', 'top cause'],
          ends.map((e) => {
            const top = Object.entries(e.disconnects.byCause).sort((a, b) => b[1] - a[1])[0];
            const cells = [e.attempts, e.succeeded, e.failed].map((x) => num(x));
            return [
              e.endpoint,
              num(e.devices),
              ...cells,
              ms(e.connectMs.p50),
              ms(e.connectMs.p99),
              num(e.disconnects.total),
              top?.[0] ?? '—',
            ];
          }),
          { indent: 2 },
        ),
    );
  const workloads = workloadsSection(r);
  if (workloads) sections.push(workloads);
  if (s.deliveryLines.length) sections.push('Delivery\n' + s.deliveryLines.map((l) => `  ${l}`).join('\n'));
  if (r.server?.verdict)
    sections.push(
      'ThingsBoard (its own statistics)\n' +
        serverSummary(r.server)
          .map((l) => `  ${l}`)
          .join('\n'),
    );
  if (s.thresholds && s.thresholds.length) sections.push(renderThresholds(s.thresholds));
  sections.push(
    findings('Devices with errors', s.devicesWithErrors, 'never connected, errors, failed publishes or failed connects'),
    findings('Devices with stalled telemetry', s.stalled, `no publish for more than ${STALL_INTERVALS} intervals before the load ended`),
    findings('Devices with delayed starts', s.delayedStarts, `first connect later than +${num(s.delayedStartLimitSec, 1)}s`),
    `First ${s.firstDevices.length} devices\n` +
      renderTable(
        ['device', 'sent', 'acked', 'failed', 'disconnects', 'connect'],
        s.firstDevices.map((d) => [d.name, num(d.sent), num(d.acked), num(d.failed), num(d.disconnects), ms(d.connectMs)]),
        { indent: 2 },
      ),
  );
  return sections.join('\n\n') + '\n';
}

/** `, REST <url>` (older reports may hold the URL with its credentials). */
function restPart(rest: string | null): string {
  return rest ? `, REST ${redactUrl(rest)}` : '';
}
