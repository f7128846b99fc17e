// B6 (issue 18): a 100,000-device fleet from one machine, driven by the product itself (`tblab
// provision`, `tblab run`), first against `tblab emulator --workers N` with the run's own delivery
// check (per device sent = acked = stored), then the same fleet against K mosquitto processes,
// where each broker's `$SYS` PUBLISH count, summed, must equal what the lab sent.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { provisionFleet } from './lab-cli.js';
import { emulatorTarget, mosquittoTarget, type B6Target } from './b6-targets.js';
import { runLeg, type LegResult } from './b6-leg.js';
import type { ScenarioResult } from './bench.js';
import type { Scenario } from '../scenarios.js';
import type { RunReport } from '../../src/report/schema.js';

/** mosquitto processes of the second leg: 100k ÷ 6 ≈ 16.7k connections each, under 20,000 open files per process. */
export const MOSQUITTO_BROKERS = 6;

export interface B6Options {
  /** The fleet size (default the scenario's 100,000): `--devices` for a quick validation run. */
  devices?: number;
  workDir: string;
  log: (line: string) => void;
}

interface DeliveryTruth {
  sent: number;
  acked: number;
  stored: number;
  lost: number;
  duplicates: number;
  /** Devices in the report's delivery table, and those where sent, acked and stored differ (or differ from the device's own row). */
  devicesChecked: number;
  devicesMismatched: number;
  firstMismatch: string | null;
}

function deliveryTruth(report: RunReport | null): DeliveryTruth | null {
  const d = report?.delivery;
  if (!d) return null;
  let checked = 0;
  let mismatched = 0;
  let firstMismatch: string | null = null;
  for (const [name, x] of Object.entries(d.devices)) {
    checked++;
    const row = report.devices[name];
    if (x.sent === x.acked && x.acked === x.stored && x.sent > 0 && (!row || row.sent === x.sent)) continue;
    mismatched++;
    firstMismatch ??= `${name}: sent ${x.sent}, acked ${x.acked}, stored ${x.stored}${row ? ` (device row sent ${row.sent})` : ''}`;
  }
  const t = d.totals;
  return {
    sent: t.sent,
    acked: t.acked,
    stored: t.stored,
    lost: t.lost,
    duplicates: t.duplicates,
    devicesChecked: checked,
    devicesMismatched: mismatched,
    firstMismatch,
  };
}

/** First connect attempt to last CONNACK from the report's device rows (as B3), or null without them. */
function rampFromReport(report: RunReport | null): number | null {
  const recs = Object.values(report?.devices ?? {}).filter((d) => d.connectedAt !== null && d.connectMs !== null);
  if (!recs.length) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const d of recs) {
    first = Math.min(first, d.connectedAt! - d.connectMs!);
    last = Math.max(last, d.connectedAt!);
  }
  return Math.round((last - first) / 10) / 100;
}

/** The figures of one leg that both legs share. */
function legFigures(leg: LegResult, devices: number) {
  const w = leg.window;
  const labRss = w.labRssByProcessMB.reduce((a, b) => a + b, 0);
  const plan = leg.planLine ?? '';
  const shards = /→ (\d+) shard process/.exec(plan);
  const addresses = /(\d+) source address\(es\) (.+?), ≤/.exec(plan);
  const m = leg.report?.metrics;
  return {
    connected: w.connectedAtEnd,
    devices,
    receivedPerSec: Math.round(w.receivedPerSec),
    kbPerConn: w.connectedAtEnd ? Math.round((labRss * 1024 * 100) / w.connectedAtEnd) / 100 : null,
    connectSeconds: rampFromReport(leg.report) ?? Math.round(leg.targetRampSeconds * 100) / 100,
    targetRampSeconds: Math.round(leg.targetRampSeconds * 100) / 100,
    labRssMB: labRss,
    labRssByProcessMB: w.labRssByProcessMB,
    supervisorCpuPct: w.supervisorCpuPct,
    shardCpuPct: w.shardCpuPct,
    labUsPerMsg: w.labUsPerMsg,
    windowSeconds: Math.round(w.seconds * 100) / 100,
    windowMessages: w.messages,
    foreignCpuPct: w.foreignCpuPct,
    sent: leg.summary.sent,
    acked: leg.summary.acked,
    failed: leg.summary.failed,
    plan: {
      shards: shards ? Number(shards[1]) : (m?.shards.length ?? null),
      sourceAddresses: addresses ? Number(addresses[1]) : 0,
      addressRange: addresses ? addresses[2].trim() : null,
      line: leg.planLine,
    },
    generatorVerdict: leg.summary.generator,
    ackP50Ms: m?.latency.ackMs.p50 ?? null,
    ackP99Ms: m?.latency.ackMs.p99 ?? null,
    scheduleLagP99Ms: m?.latency.scheduleLagMs.p99 ?? null,
    ...windowPeaks(m?.series ?? [], w.startMs, w.endMs),
    connectCpuSeconds: Math.round(leg.connectCpuSeconds * 100) / 100,
    outcome: `${leg.summary.outcome} (${leg.summary.endReason})`,
    stopSeconds: leg.stopSeconds,
  };
}

type Point = { ts: number; scheduleLagP99Ms: number | null; ackP99Ms: number | null };

/**
 * The worst per-second schedule lag p99 and PUBACK p99 of the run's series inside the measured window and
 * before it (start-up and ramp): the report's run-wide percentiles mix both.
 */
function windowPeaks(series: readonly Point[], startMs: number, endMs: number) {
  const peak = (pts: readonly Point[], k: 'scheduleLagP99Ms' | 'ackP99Ms') =>
    pts.reduce<number | null>((n, p) => (p[k] === null ? n : Math.max(n ?? 0, p[k])), null);
  const inWindow = series.filter((p) => p.ts >= startMs && p.ts <= endMs);
  const before = series.filter((p) => p.ts < startMs);
  return {
    windowLagP99MaxMs: peak(inWindow, 'scheduleLagP99Ms'),
    windowAckP99MaxMs: peak(inWindow, 'ackP99Ms'),
    rampLagP99MaxMs: peak(before, 'scheduleLagP99Ms'),
    rampAckP99MaxMs: peak(before, 'ackP99Ms'),
  };
}

async function withTarget<T>(start: () => Promise<B6Target>, f: (t: B6Target) => Promise<T>): Promise<T> {
  const t = await start();
  try {
    return await f(t);
  } finally {
    await t.close();
  }
}

export async function runB6(s: Scenario, o: B6Options): Promise<ScenarioResult & Record<string, unknown>> {
  const devices = o.devices ?? s.devices;
  const log = o.log;
  const cwd = join(o.workDir, 'b6');
  mkdirSync(cwd, { recursive: true });
  // the product's own keys, nothing else: shards, source addresses and the per-process cap are planned
  const common = {
    DATA_DIR: join(cwd, 'data'),
    DEVICE_COUNT: String(devices),
    MQTT_QOS: String(s.qos),
    PUBLISH_INTERVAL_SEC: String(1 / (s.ratePerDevice as number)),
    DURATION_SEC: '0',
    DASHBOARD: '0',
  };
  const timing = { ...s.timing, connectTimeoutSec: Math.max(s.timing.connectTimeoutSec, Math.ceil(devices / 250)) };
  log(`${s.name}: ${s.title}${devices !== s.devices ? ` — at ${devices.toLocaleString('en-US')} devices (--devices)` : ''}`);

  const emu = await withTarget(
    () => emulatorTarget(devices),
    async (t) => {
      log(`    emulator: REST ${t.restUrl}, ${t.endpoints.length} workers (${t.endpoints.join(', ')}); provisioning…`);
      const provisionSeconds = await provisionFleet({ TB_URL: t.restUrl!, DEVICE_COUNT: String(devices), DATA_DIR: common.DATA_DIR }, cwd);
      log(`    provisioned ${devices.toLocaleString('en-US')} devices in ${provisionSeconds.toFixed(1)} s`);
      // the delivery check reads every device back over REST: more requests in flight than the default 8
      const leg = await runLeg('emulator', t, { ...common, TB_URL: t.restUrl!, DELIVERY_CONCURRENCY: '32' }, cwd, devices, timing, log);
      const storedTotal = await t.settledReceived();
      return { leg, provisionSeconds, workers: t.endpoints.length, storedTotal };
    },
  );
  const delivery = deliveryTruth(emu.leg.report);
  const e = legFigures(emu.leg, devices);
  log(
    `    emulator leg: ${e.connected} connected in ${e.connectSeconds} s, ${e.receivedPerSec} msg/s, ${e.kbPerConn} KB/conn (lab RSS ${e.labRssByProcessMB.join(' + ')} MB), emulator ${emu.leg.window.targetUsPerMsg} µs/msg (front ${emu.leg.window.targetFrontUsPerMsg}); delivery ${delivery ? `sent ${delivery.sent} acked ${delivery.acked} stored ${delivery.stored}, ${delivery.devicesMismatched} of ${delivery.devicesChecked} devices mismatched` : 'missing'}; worst second's lag p99 ${e.windowLagP99MaxMs} ms in the window, ${e.rampLagP99MaxMs} ms before it`,
  );

  // the same fleet (the tokens just provisioned) against plain brokers: no REST, no delivery check
  const mq = await withTarget(
    () => mosquittoTarget(MOSQUITTO_BROKERS),
    async (t) => {
      const env = { ...common, DELIVERY_CHECK: '0', SERVER_STATS: '0', TB_URL: 'http://127.0.0.1:9' };
      const leg = await runLeg('mosquitto', t, env, cwd, devices, timing, log);
      return { leg, sysReceivedTotal: await t.settledReceived() };
    },
  );
  const m = legFigures(mq.leg, devices);
  log(
    `    mosquitto leg: ${m.connected} connected in ${m.connectSeconds} s, ${m.receivedPerSec} msg/s, ${m.kbPerConn} KB/conn; lab sent ${m.sent}, brokers' $SYS summed ${mq.sysReceivedTotal}; worst second's lag p99 ${m.windowLagP99MaxMs} ms in the window, ${m.rampLagP99MaxMs} ms before it`,
  );

  const emulatorOk =
    e.connected === devices &&
    !!delivery &&
    delivery.devicesMismatched === 0 &&
    delivery.devicesChecked === devices &&
    delivery.sent === delivery.stored;
  const mosquittoOk = m.connected === devices && mq.sysReceivedTotal === m.sent && m.sent > 0;
  const w = emu.leg.window;
  return {
    name: s.name,
    title: s.title,
    usPerMsg: w.labUsPerMsg,
    usPerChildMsg: null,
    receivedPerSec: e.receivedPerSec,
    intendedPerSec: Math.round(devices * (s.ratePerDevice as number)),
    scheduleLagP99Ms: e.scheduleLagP99Ms,
    rssMB: e.labRssMB,
    kbPerConn: e.kbPerConn,
    connectSeconds: e.connectSeconds,
    baselineUsPerMsg: null,
    ratio: null,
    goal: s.goal,
    // the goal is for the full fleet; a --devices run shows the checks in `checksPassed`
    pass: devices === s.devices ? emulatorOk && mosquittoOk : null,
    checksPassed: emulatorOk && mosquittoOk,
    devices,
    qos: s.qos,
    processes: w.labRssByProcessMB.length,
    windowSeconds: e.windowSeconds,
    foreignCpuPct: w.foreignCpuPct,
    targetUsPerMsg: w.targetUsPerMsg,
    ackP50Ms: e.ackP50Ms,
    ackP99Ms: e.ackP99Ms,
    sent: e.sent,
    receivedTotal: emu.storedTotal,
    rssGrowthPct: null,
    rssByProcessMB: w.labRssByProcessMB,
    cpuByProcessSeconds: null,
    connectCpuSeconds: e.connectCpuSeconds,
    generator: { verdict: e.generatorVerdict, outcome: e.outcome },
    rssSeries: [],
    baseline: null,
    // B6's own figures (bench/README.md, B6)
    connected: e.connected,
    supervisorCpuPct: e.supervisorCpuPct,
    shardCpuPct: e.shardCpuPct,
    emulatorWorkers: emu.workers,
    emulatorCpuPct: w.targetCpuPct,
    emulatorUsPerMsg: w.targetUsPerMsg,
    emulatorFrontUsPerMsg: w.targetFrontUsPerMsg,
    emulatorRssMB: w.targetRssMB,
    plan: e.plan,
    delivery,
    provisionSeconds: Math.round(emu.provisionSeconds * 10) / 10,
    emulatorLeg: e,
    mosquitto: {
      brokers: MOSQUITTO_BROKERS,
      ...m,
      sysReceivedTotal: mq.sysReceivedTotal,
      brokerUsPerMsg: mq.leg.window.targetUsPerMsg,
      brokersCpuPct: mq.leg.window.targetCpuPct,
      brokersRssMB: mq.leg.window.targetRssMB,
    },
  };
}
