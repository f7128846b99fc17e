// The supervisor's costs that grow with the fleet, measured without a socket: synthetic shard
// snapshots of N device rows go through the real code (the aggregator's merge, the checkpoint's
// device JSON and report file, the final report, the /api/metrics snapshot, the report summary,
// the IPC encoding of a snapshot), at several fleet sizes. What counts is the ratio between sizes:
// 10× the devices should cost at most 10× (linear). `npm run build && node dist/bench/supervisor-scale.js`
// [--sizes 10000,30000,100000] [--reps 3] [--json out.json]. Method and figures: bench/README.md.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize, deserialize } from 'node:v8';
import { Aggregator } from '../src/engine/aggregate.js';
import { C, C_FIELDS, D, D_FIELDS, FLAG_CONNECTED } from '../src/engine/counters.js';
import { planShards } from '../src/engine/plan.js';
import type { ShardSnapshot } from '../src/engine/protocol.js';
import { checkpointResults, finalResults, type ResultsSource } from '../src/engine/results-of.js';
import { shipRows, type ShippedRows } from '../src/engine/row-ship.js';
import { TRAFFIC } from '../src/engine/states.js';
import { createHistogram, encodeHistogram, recordMs } from '../src/metrics/hdr.js';
import { buildReport } from '../src/report/build.js';
import { ReportFiles } from '../src/report/write.js';
import { renderSummary } from '../src/report/summary.js';
import { checkpointIntervalMs } from '../src/lab/pipeline/checkpoint-cadence.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const SIZES = opt('sizes', '10000,30000,100000').split(',').map(Number);
const REPS = Number(opt('reps', '3'));
const JSON_OUT = args.includes('--json') ? opt('json', '') : '';
/** Devices per shard process, as the connection plan makes them on a 20,000 open-file machine. */
const PER_SHARD = 15_000;
const T0 = 1_780_000_000_000;

const enc = (...ms: number[]) => {
  const h = createHistogram();
  for (const v of ms) recordMs(h, v);
  return encodeHistogram(h);
};
const HIST = { ackMs: enc(3, 4, 5), connectMs: enc(12), scheduleLagMs: enc(1) };

/**
 * A shard's snapshot at second `sec` with the rows `changed` (local indices) published `sec` times
 * each: whole rows, or (`trafficOnly`) as the shard ships rows whose only change is traffic.
 */
function shardSnapshot(shardId: number, n: number, sec: number, changed: Int32Array, trafficOnly: boolean): ShardSnapshot {
  const counters = new Float64Array(C_FIELDS);
  counters[C.SENT] = counters[C.ACKED] = n * sec;
  counters[C.CONNECT_ATTEMPTS] = counters[C.CONNECT_OK] = counters[C.CONNECTED] = counters[C.WANTED] = n;
  const rows = new Float64Array(changed.length * D_FIELDS);
  for (let k = 0; k < changed.length; k++) {
    const r = k * D_FIELDS;
    rows[r + D.SENT] = rows[r + D.ACKED] = rows[r + D.LAST_SEQ] = sec;
    rows[r + D.CONNECTS] = 1;
    rows[r + D.CONNECTED_AT] = T0 + 500 + changed[k];
    rows[r + D.CONNECT_MS] = 12.345;
    rows[r + D.FIRST_PUB] = T0 + 1000 + (changed[k] % 1000);
    rows[r + D.LAST_PUB] = T0 + sec * 1000 + (changed[k] % 1000);
    rows[r + D.FLAGS] = FLAG_CONNECTED;
  }
  return {
    shardId,
    seq: sec,
    at: T0 + sec * 1000,
    counters,
    byOutcome: { accepted: n },
    byCause: {},
    byClass: {},
    errorsByKind: {},
    hist: HIST,
    eventLoopP99Ms: 3,
    cpuPercent: 40,
    rssMB: 80,
    ...(trafficOnly ? asTraffic(rows, changed) : { changed: { idx: changed, rows } }),
    endpoints: undefined,
    disconnects: [],
    events: [],
  };
}

/** Whole rows of the devices `idx` as the shard ships them when only their traffic changed. */
function asTraffic(rows: Float64Array, idx: Int32Array): ShippedRows {
  const { changed, traffic } = shipRows(rows, new Uint8Array(idx.length).fill(TRAFFIC), idx.length, true);
  return { changed, traffic: { idx: Int32Array.from(traffic.idx, (k) => idx[k]), rows: traffic.rows } };
}

const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const some = (n: number, share: number) =>
  Int32Array.from({ length: Math.max(1, Math.round(n * share)) }, (_, k) => Math.floor(k / share) % n);

/**
 * Median CPU time of `reps` calls of `fn` (ms, user + system of this process), and its last result.
 * CPU rather than wall time: on a shared machine the wall clock also counts the waits for a core.
 */
function time<T>(fn: () => T, reps = REPS): { ms: number; out: T } {
  const t: number[] = [];
  let out!: T;
  for (let i = 0; i < reps; i++) {
    const a = process.cpuUsage();
    out = fn();
    const d = process.cpuUsage(a);
    t.push((d.user + d.system) / 1000);
  }
  t.sort((a, b) => a - b);
  return { ms: Math.round(t[Math.floor(t.length / 2)] * 10) / 10, out };
}

interface Row {
  devices: number;
  shards: number;
  [k: string]: number;
}

function measure(devices: number, dir: string): Row {
  const slices = planShards(devices, 0, PER_SHARD, 2);
  const shards = slices.map((s) => ({
    id: s.id,
    names: Array.from({ length: s.end - s.start }, (_, k) => `sim-${String(s.start + k + 1).padStart(6, '0')}`),
    indices: Array.from({ length: s.end - s.start }, (_, k) => s.start + k + 1),
  }));
  const agg = new Aggregator({
    runId: 'scale',
    instance: null,
    startedAt: T0,
    target: { mqtt: 'mqtt://127.0.0.1:1883', rest: null, qos: 1, mqttVersion: '3.1.1', publishIntervalSec: 10 },
    shards,
    endpoints: [{ endpoint: '127.0.0.1:1883', devices }],
    collapseShare: 0.5,
    collapseWindowSec: 30,
  });
  const src: ResultsSource = {
    runId: 'scale',
    startedAt: T0,
    agg,
    workloads: { encoded: () => ({}) },
    shards: slices.map((s) => s.id),
    files: { events: [], metrics: [] },
  };
  const row: Row = { devices, shards: slices.length };
  let sec = 1;
  const apply = (changed: (n: number) => Int32Array, trafficOnly: boolean) => {
    const snaps = shards.map((s) => shardSnapshot(s.id, s.names.length, sec, changed(s.names.length), trafficOnly));
    // the IPC of `serialization: 'advanced'` is v8's serializer: bytes on the pipe and both ends' work
    const wire = snaps.map((s) => serialize({ type: 'snapshot', snapshot: s, final: false }));
    const ipcBytes = wire.reduce((a, b) => a + b.length, 0);
    const de = time(() => wire.map((b) => deserialize(b)));
    const ap = time(() => snaps.forEach((s) => agg.apply(s)));
    sec++;
    return { ipcBytes, ms: Math.round((de.ms + ap.ms) * 10) / 10 };
  };
  // a second in which every row carries traffic (every 5th snapshot), then one with 1 % of the rows changed state
  apply(all, false); // the connect: every row changes state, so ships whole
  const traffic = apply(all, true);
  row.trafficSnapshotKB = Math.round(traffic.ipcBytes / 1024);
  row.trafficApplyMs = traffic.ms;
  const state = apply((n) => some(n, 0.01), false);
  row.stateSnapshotKB = Math.round(state.ipcBytes / 1024);
  row.stateApplyMs = state.ms;
  const snap = time(() => agg.snapshot(T0 + sec * 1000, 'running'));
  row.mergeMs = snap.ms;
  const api = time(() => JSON.stringify(snap.out));
  row.apiMetricsKB = Math.round(Buffer.byteLength(api.out) / 1024);
  row.apiMetricsMs = api.ms;
  // checkpoint: the device JSON after a second in which every row changed (every block re-encoded),
  // then the report around it and both files written
  const files = new ReportFiles(dir, `scale-${devices}`);
  row.checkpointEncodeMs = time(() => {
    apply(all, true);
    const a = process.cpuUsage();
    agg.deviceRecordsChunks();
    const d = process.cpuUsage(a);
    return (d.user + d.system) / 1000;
  }).out;
  row.checkpointEncodeMs = Math.round(row.checkpointEncodeMs * 10) / 10;
  row.checkpointWriteMs = time(() => {
    const interim = checkpointResults(src, T0 + sec * 1000)!;
    files.writeCheckpoint(buildReport(interim.results, { config: {} }), interim.devicesJson);
  }).ms;
  row.checkpointKB = Math.round(statSync(files.reportPath).size / 1024);
  row.checkpointEverySec = checkpointIntervalMs(devices) / 1000;
  row.checkpointDiskKBps = Math.round((row.checkpointKB * (files.latestLinked ? 1 : 2)) / row.checkpointEverySec);
  // what a steady second costs the supervisor: the merge, a traffic snapshot every 5th second, state
  // snapshots in the others, and its share of a checkpoint (ms of CPU per second: ‰ of one core)
  row.steadyMsPerSec =
    Math.round(
      (row.mergeMs +
        (row.trafficApplyMs + 4 * row.stateApplyMs) / 5 +
        (row.checkpointEncodeMs + row.checkpointWriteMs) / row.checkpointEverySec) *
        10,
    ) / 10;
  // the final report: every record built, stringified once, written and fsynced
  const fin = time(() => {
    const r = buildReport(finalResults(src, agg.snapshot(T0 + sec * 1000, 'finished'), T0 + sec * 1000, 'completed', 'duration reached'), {
      config: {},
    });
    files.writeReport(r);
    return r;
  }, 1);
  row.finalReportMs = fin.ms;
  row.finalReportKB = Math.round(statSync(files.reportPath).size / 1024);
  row.summaryMs = time(() => renderSummary(fin.out)).ms;
  return row;
}

const dir = mkdtempSync(join(tmpdir(), 'tblab-supscale-'));
const rows: Row[] = [];
try {
  measure(SIZES[0], dir); // warm-up: the first size would otherwise pay for the JIT
  for (const n of SIZES) {
    rows.push(measure(n, dir));
    process.stderr.write(`measured ${n} devices\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const keys = Object.keys(rows[0]).filter((k) => k !== 'devices' && k !== 'shards');
const first = rows[0];
const last = rows[rows.length - 1];
const lines = [['', ...rows.map((r) => `${r.devices}`), `×${last.devices / first.devices} fleet`].join('\t')];
lines.push(['shards', ...rows.map((r) => `${r.shards}`), ''].join('\t'));
for (const k of keys) {
  const ratio = first[k] > 0 ? Math.round((last[k] / first[k]) * 10) / 10 : NaN;
  lines.push([k, ...rows.map((r) => `${r[k]}`), `×${ratio}`].join('\t'));
}
process.stdout.write(lines.join('\n') + '\n');
if (JSON_OUT) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(JSON_OUT, JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2) + '\n');
}
