// The supervisor's view of the run: merges the latest snapshot of every shard (absolute
// counters, interval HDR histograms, changed device rows) into one MetricsSnapshot per second,
// keeps the cumulative histograms, the per-device table and the timeline for the report.
import { createHistogram, decodeHistogram, encodeHistogram, summarize, type Histogram } from '../metrics/hdr.js';
import {
  METRICS_SCHEMA_VERSION,
  type CauseClass,
  type MetricsSnapshot,
  type RunState,
  type SeriesPoint,
  type ShardStatus,
} from '../metrics/snapshot.js';
import { CollapseDetector } from '../metrics/collapse.js';
import { cumulativeBuckets } from '../metrics/buckets.js';
import { generatorHealth, LAG_LAGGING_MS } from '../metrics/health.js';
import type { DeviceRecord, RunResults, TimelinePoint } from '../metrics/records.js';
import { C, C_FIELDS } from './counters.js';
import { deviceRecord, deviceRecordsJson } from './device-records.js';
import type { ShardSnapshot } from './protocol.js';
import { overRun, round1, round3, type ShardSecond } from './rates.js';
import { topDevices } from './top-devices.js';
import { applyRows, newShardView, recordDisconnects, rowTotals, settleCrashed, type RowTotals, type ShardView } from './shard-view.js';
import { rssMB } from './rss.js';
import { EndpointAggregate, type EndpointMeta } from './endpoint-stats.js';

export type { RowTotals, ShardSecond };

export interface AggregatorMeta {
  runId: string;
  instance: string | null;
  startedAt: number;
  target: MetricsSnapshot['target'];
  /** Device names per shard, in the shard's local order. */
  shards: Array<{ id: number; names: string[]; indices: number[] }>;
  /** Per MQTT endpoint: its label and devices, in the order configured. */
  endpoints: EndpointMeta[];
  collapseShare: number;
  collapseWindowSec: number;
}

const SERIES_POINTS = 60;
const TOP_DEVICES = 50;

export class Aggregator {
  readonly ackMs = createHistogram();
  readonly connectMs = createHistogram();
  readonly scheduleLagMs = createHistogram();
  readonly timeline: TimelinePoint[] = [];
  /** Notes of the supervisor (crashed shards, skipped files…), shown in `generator.notes`. */
  readonly notes: string[] = [];
  private readonly shards: ShardView[];
  private readonly series: SeriesPoint[] = [];
  private readonly collapse: CollapseDetector;
  private readonly endpoints: EndpointAggregate;
  /** First publish of the run and the moment the load stopped (ms since epoch): the seconds under load. */
  private firstPublishAt = 0;
  private loadEndAt = 0;
  private prevSent = 0;
  private prevAcked = 0;
  private peakConnected = 0;
  private secondsBehind = 0;
  private secondsSaturated = 0;
  private last: MetricsSnapshot | null = null;
  /** worst per-second event-loop delay p99 of any shard, and CPU seconds summed, for the final report */
  private eldWorst: number | null = null;
  private cpuSamples = 0;
  private cpuSum = 0;

  constructor(private readonly meta: AggregatorMeta) {
    this.collapse = new CollapseDetector(meta.collapseShare, meta.collapseWindowSec);
    this.shards = meta.shards.map((s) => newShardView(s, meta.startedAt));
    this.endpoints = new EndpointAggregate(meta.endpoints, meta.shards.length);
  }

  shardStatus(id: number): ShardStatus {
    return this.shards[id].status;
  }

  /** The load stopped (the stop was sent to the shards): the end of the seconds under load. */
  loadEnded(at: number): void {
    if (!this.loadEndAt) this.loadEndAt = at;
  }

  /**
   * Per-second numbers of one shard's snapshot, for its metrics CSV. Rates are the shard's own
   * counters over the shard's own clock, so a merged second never counts a shard twice or not at
   * all; a final partial second keeps the last whole-second rates (null in the CSV).
   */
  apply(s: ShardSnapshot, final = false): ShardSecond {
    const v = this.shards[s.shardId];
    if (v.status.state === 'crashed') return { ackP99Ms: null, scheduleLagP99Ms: null, sentPerSec: null, ackedPerSec: null }; // settled by crashed()
    const rate = v.rates.update(s.at, s.counters, final);
    v.counters = s.counters;
    v.byOutcome = s.byOutcome;
    v.byCause = s.byCause;
    v.byClass = s.byClass;
    v.errorsByKind = s.errorsByKind;
    v.eventLoopP99Ms = s.eventLoopP99Ms;
    v.cpuPercent = s.cpuPercent;
    v.rssMB = s.rssMB;
    v.status.connected = s.counters[C.CONNECTED];
    if (v.status.state === 'starting') v.status.state = 'running';
    if (s.eventLoopP99Ms !== null) this.eldWorst = Math.max(this.eldWorst ?? 0, s.eventLoopP99Ms);
    const ack = decodeHistogram(s.hist.ackMs);
    const lag = decodeHistogram(s.hist.scheduleLagMs);
    this.ackMs.add(ack);
    this.scheduleLagMs.add(lag);
    this.connectMs.add(decodeHistogram(s.hist.connectMs));
    v.secAck.add(ack);
    v.secLag.add(lag);
    const first = applyRows(v, s);
    if (first > 0 && (this.firstPublishAt === 0 || first < this.firstPublishAt)) this.firstPublishAt = first;
    recordDisconnects(v, s.disconnects);
    this.endpoints.apply(s.shardId, s.endpoints);
    const lagP99 = lag.totalCount ? summarize(lag).p99 : null;
    if (lagP99 !== null && lagP99 > LAG_LAGGING_MS) this.secondsBehind++;
    if (s.cpuPercent >= 95) this.secondsSaturated++;
    return {
      ackP99Ms: ack.totalCount ? summarize(ack).p99 : null,
      scheduleLagP99Ms: lagP99,
      sentPerSec: rate ? rate.sent : null,
      ackedPerSec: rate ? rate.acked : null,
    };
  }

  /** Seconds under load: first publish → the stop (or `now` while running); 0 before any publish. */
  loadSec(now: number): number {
    if (!this.firstPublishAt) return 0;
    return Math.max(0, ((this.loadEndAt || now) - this.firstPublishAt) / 1000);
  }

  /** The merged snapshot at `now` (ms since epoch); call once per second. */
  snapshot(now: number, state: RunState): MetricsSnapshot {
    const tot = new Float64Array(C_FIELDS);
    const byOutcome: Record<string, number> = {};
    const byCause: Record<string, number> = {};
    const byClass: Partial<Record<CauseClass, number>> = {};
    const errors: Record<string, number> = {};
    const secAck = createHistogram();
    const secLag = createHistogram();
    let eld: number | null = null;
    let cpu = 0;
    let rss = rssMB();
    let sentPerSec = 0,
      ackedPerSec = 0,
      failedPerSec = 0,
      mbpsOut = 0;
    const add = <K extends string>(dst: Partial<Record<K, number>>, src: Partial<Record<K, number>>) => {
      for (const [k, n] of Object.entries(src) as Array<[K, number]>) dst[k] = (dst[k] ?? 0) + n;
    };
    for (const v of this.shards) {
      for (let f = 0; f < C_FIELDS; f++) tot[f] += v.counters[f];
      add(byOutcome, v.byOutcome);
      add(byCause, v.byCause);
      add(byClass, v.byClass);
      add(errors, v.errorsByKind);
      secAck.add(v.secAck);
      secLag.add(v.secLag);
      v.secAck.reset();
      v.secLag.reset();
      if (v.status.state !== 'crashed') {
        const r = v.rates.last;
        sentPerSec += r.sent;
        ackedPerSec += r.acked;
        failedPerSec += r.failed;
        mbpsOut += r.mbps;
      }
      if (v.status.state === 'running' || v.status.state === 'stopping') {
        if (v.eventLoopP99Ms !== null) eld = Math.max(eld ?? 0, v.eventLoopP99Ms);
        cpu += v.cpuPercent;
        rss += v.rssMB;
      }
    }
    const sent = tot[C.SENT],
      acked = tot[C.ACKED],
      failed = tot[C.FAILED],
      bytes = tot[C.BYTES];
    const sentDelta = sent - this.prevSent,
      ackedDelta = acked - this.prevAcked;
    this.prevSent = sent;
    this.prevAcked = acked;
    [sentPerSec, ackedPerSec, failedPerSec, mbpsOut] = [round1(sentPerSec), round1(ackedPerSec), round1(failedPerSec), round3(mbpsOut)];
    const connected = tot[C.CONNECTED];
    this.peakConnected = Math.max(this.peakConnected, connected);
    const elapsedSec = (now - this.meta.startedAt) / 1000;
    const configured = this.shards.reduce((a, v) => a + v.names.length, 0);
    const ack = summarize(this.ackMs);
    const lag = summarize(this.scheduleLagMs);
    const secAckP99 = secAck.totalCount ? summarize(secAck).p99 : null;
    const secLagP99 = secLag.totalCount ? summarize(secLag).p99 : null;

    const point: SeriesPoint = {
      t: Math.round(elapsedSec * 10) / 10,
      ts: now,
      sentPerSec,
      ackedPerSec,
      failedPerSec,
      mbpsOut,
      connected,
      ackP99Ms: secAckP99,
      scheduleLagP99Ms: secLagP99,
    };
    this.series.push(point);
    if (this.series.length > SERIES_POINTS) this.series.shift();
    const endpoints = this.endpoints.section();
    this.timeline.push({
      ts: Math.floor(now / 1000) * 1000,
      t: point.t,
      sent,
      acked,
      failed,
      connected,
      sentPerSec,
      ackedPerSec,
      mbpsOut,
      ackP99Ms: secAckP99,
      scheduleLagP99Ms: secLagP99,
      eventLoopDelayP99Ms: eld,
      state,
      ...(endpoints.length > 1 ? { endpointsConnected: endpoints.map((e) => e.connected) } : {}),
    });

    const collapse =
      state === 'running' || state === 'connecting'
        ? this.collapse.update({
            at: now,
            elapsedSec,
            connected,
            peakConnected: this.peakConnected,
            expected: tot[C.WANTED],
            qos: this.meta.target.qos,
            sentDelta,
            ackedDelta,
            inFlight: tot[C.IN_FLIGHT],
            byCause,
          })
        : this.collapse.collapse;
    const final = state === 'finished' || state === 'aborted' || state === 'failed';
    const loadSec = this.loadSec(now);
    if (!final && cpu > 0) {
      this.cpuSum += cpu;
      this.cpuSamples++;
    }
    const crashed = this.shards.filter((v) => v.status.state === 'crashed').length;

    const snap: MetricsSnapshot = {
      schemaVersion: METRICS_SCHEMA_VERSION,
      runId: this.meta.runId,
      instance: this.meta.instance,
      state,
      startedAt: new Date(this.meta.startedAt).toISOString(),
      at: new Date(now).toISOString(),
      elapsedSec: Math.round(elapsedSec * 10) / 10,
      target: this.meta.target,
      connections: {
        configured,
        connected,
        peakConnected: this.peakConnected,
        paused: tot[C.PAUSED],
        failedDevices: tot[C.FAILED_DEVICES],
        attempts: tot[C.CONNECT_ATTEMPTS],
        succeeded: tot[C.CONNECT_OK],
        failed: tot[C.CONNECT_FAILED],
        byOutcome,
      },
      traffic: {
        sent,
        acked,
        failed,
        inFlight: this.meta.target.qos === 1 ? tot[C.IN_FLIGHT] : 0,
        bytesSent: bytes,
        skipped: tot[C.SKIPPED],
        // live: the last whole second; final: the whole run over its seconds under load
        ...(final ? overRun(loadSec, sent, acked, bytes) : { sentPerSec, ackedPerSec, mbpsOut }),
        avgSentPerDevice: configured ? round1(sent / configured) : 0,
        avgRatePerDevice: configured && loadSec > 0 ? round3(sent / configured / loadSec) : 0,
        loadSec: round1(loadSec),
      },
      latency: { ackMs: ack, connectMs: summarize(this.connectMs), scheduleLagMs: lag },
      latencyBuckets: { ackMs: cumulativeBuckets(this.ackMs), connectMs: cumulativeBuckets(this.connectMs) },
      disconnects: { total: tot[C.DISCONNECTS], byCause, byClass },
      endpoints,
      errors: { total: tot[C.ERRORS], byClass: errors },
      collapse,
      generator: generatorHealth({
        scheduleLagP99Ms: lag.p99,
        // final: the worst second and the mean CPU of the run; live: this second
        eventLoopDelayP99Ms: final ? this.eldWorst : eld,
        secondsBehind: this.secondsBehind,
        secondsSaturated: this.secondsSaturated,
        cpuPercent: Math.round((final ? ((this.cpuSamples ? this.cpuSum / this.cpuSamples : null) ?? 0) : cpu) * 10) / 10,
        rssMB: rss,
        crashedShards: crashed,
        notes: this.notes,
      }),
      series: [...this.series],
      topDevices: topDevices(this.shards, TOP_DEVICES),
      shards: this.shards.map((v) => ({ ...v.status })),
      delivery: null,
    };
    this.last = snap;
    return snap;
  }

  get latest(): MetricsSnapshot | null {
    return this.last;
  }

  /** Per-device records of the report, keyed by device name. */
  deviceRecords(): Record<string, DeviceRecord> {
    const out: Record<string, DeviceRecord> = {};
    for (const v of this.shards) for (let i = 0; i < v.names.length; i++) out[v.names[i]] = deviceRecord(v, i);
    return out;
  }

  /** `JSON.stringify(deviceRecords())` for checkpoints, as UTF-8 chunks (see deviceRecordsJson). */
  deviceRecordsChunks(): Buffer[] {
    return deviceRecordsJson(this.shards);
  }

  /** Sent, acked, failed and skipped summed over the device rows (of one shard, or all). */
  rowTotals(id?: number): RowTotals {
    return rowTotals(id === undefined ? this.shards : [this.shards[id]], this.meta.target.qos);
  }

  /**
   * Shard `id` ended without its final snapshot. Its device rows carry traffic only every few
   * snapshots (shard.ts TRAFFIC_ROWS_EVERY), so its counters ran ahead of them: its counters become
   * the sums of its rows (the totals then equal the sum of the devices' records), its devices are
   * no longer connected, and what its counters had beyond the rows is returned for a note.
   */
  crashed(id: number): RowTotals {
    const ahead = settleCrashed(this.shards[id], this.meta.target.qos);
    this.endpoints.crashed(id);
    // rates leave crashed shards out; the collapse detector's next deltas must not step back either
    this.prevSent -= ahead.sent;
    this.prevAcked -= ahead.acked;
    return ahead;
  }

  encodedHistograms(): RunResults['histograms'] {
    const enc = (h: Histogram) => (h.totalCount ? encodeHistogram(h) : null);
    const endpointConnectMs = this.endpoints.encoded();
    return { ackMs: enc(this.ackMs), connectMs: enc(this.connectMs), scheduleLagMs: enc(this.scheduleLagMs), endpointConnectMs };
  }
}
