// The delivery check of one run, a sink: the live ingest-latency sample (it owns the live
// snapshot's `delivery`), optional counts during the run, and at the end the reconciliation, the
// cross-check with an embedded emulator and the rate-limit attribution (it owns the report's
// `delivery`, `metrics.delivery` and `histograms.ingestLatencyMs`).
import type { ResolvedConfig } from '../../config/index.js';
import type { FleetDevice } from '../../common/fleet.js';
import type { RunResults } from '../../metrics/records.js';
import type { RunSink } from '../pipeline/sink.js';
import { emptyPercentiles, type MetricsSnapshot } from '../../metrics/snapshot.js';
import type { DeliveryDevice, DeliveryReport } from '../../report/schema.js';
import { fromEmulator, fromMissing, fromRest } from './device-result.js';
import { resolveByName } from './children.js';
import { clientFromConfig, type TbClient } from '../../thingsboard/client.js';
import { describeError } from '../../common/errors.js';
import { pickSample } from './analyze.js';
import { IngestLatencySampler } from './latency.js';
import { countAll, reconcileRest, type DeviceReadback, type ExpectedDevice } from './reconcile.js';
import { crossCheck, readEmulator, type EmulatorRecord } from './emulator-path.js';
import { attributeRateLimits } from './rate-limit.js';
import { lastPublishOf } from '../../metrics/attribution.js';
import { deliverySummary } from '../../report/delivery-summary.js';

export interface DeliveryCheckOptions {
  /** DELIVERY_* and LATENCY_SAMPLE settings, TB_URL and credentials, QoS, interval. */
  config: ResolvedConfig;
  /** The devices of this run (with their ThingsBoard ids and workloads: src/lab/workload-fleet.ts). */
  fleet: FleetDevice[];
  /** Base URL of an emulator this lab started (--embedded): its /__emulator/stats is read too. */
  emulatorUrl?: string | null;
  /** Progress bars (stderr); none when omitted. */
  progress?: NodeJS.WritableStream;
  /** Human lines (summary, notes). */
  log?: (line: string) => void;
}

export interface DeliveryCheck extends RunSink {
  /** Stops everything (idempotent; also when the run failed to start). */
  close(): Promise<void>;
}

/** Devices listed in `devicesWithLoss`. */
const LOSS_LIST_LIMIT = 100;

/** The delivery check of a run: pass it among the run's sinks; its live parts start with the run. */
export function deliveryCheck(o: DeliveryCheckOptions): DeliveryCheck {
  const cfg = o.config;
  let attachedAt = Date.now();
  let latest: MetricsSnapshot | null = null;
  const notes: string[] = [];
  const note = (m: string) => {
    if (!notes.includes(m)) notes.push(m);
    o.log?.(`delivery: ${m}`);
  };
  const client: TbClient = clientFromConfig(cfg);
  const rest429 = { base: 0, count: 0, firstAt: null as number | null };
  const onRequest = () => {
    const n = client.stats.retries.rateLimited - rest429.base;
    if (n > rest429.count && rest429.firstAt === null) rest429.firstAt = Date.now();
    rest429.count = n;
  };
  // gateway children have no id before ThingsBoard creates them: followed by name only at the end
  const latencyDevices = pickSample(
    o.fleet.filter((d) => d.id),
    cfg.latencySample,
  );
  let sampler: IngestLatencySampler | null = null;
  let started: Promise<void> = Promise.resolve();
  const live: { stored?: number; pending?: number; checkedAt?: string } = {};
  let counting: Promise<void> | null = null;
  const expected = o.fleet.map((d) => ({ name: d.name, id: d.id }));
  let timer: NodeJS.Timeout | null = null;
  const startLive = () => {
    attachedAt = Date.now();
    if (latencyDevices.length) {
      const token = () => client.accessToken();
      sampler = new IngestLatencySampler({ baseUrl: cfg.tbUrl, token, devices: latencyDevices, runStart: attachedAt - 1000, onNote: note });
      started = sampler.start();
    }
    if (cfg.deliveryEverySec <= 0) return;
    timer = setInterval(() => {
      if (counting) return;
      const acked = latest?.traffic.acked ?? 0;
      counting = resolveByName(client, expected)
        .then(() => {
          const devices = expected.filter((d) => d.id).map((d) => ({ ...d, sent: 0, acked: 0 }));
          return countAll({ client, devices, startTs: attachedAt - 1000, concurrency: cfg.deliveryConcurrency, onRequest });
        })
        .then((stored) => {
          Object.assign(live, { stored, pending: Math.max(0, acked - stored), checkedAt: new Date().toISOString() });
        })
        .catch((e) => note(`count during the run failed: ${describeError(e)}`))
        .finally(() => (counting = null));
    }, cfg.deliveryEverySec * 1000);
  };
  const liveDelivery = (s: MetricsSnapshot): MetricsSnapshot['delivery'] =>
    sampler || live.checkedAt
      ? {
          sampleDevices: latencyDevices.length,
          ingestLatencyMs: sampler?.summary() ?? emptyPercentiles(),
          ...live,
          rateLimitEvents: s.disconnects.byClass['rate-limit'] ?? 0,
        }
      : null;

  const stopLive = async () => {
    if (timer) clearInterval(timer);
    await counting;
    await started;
  };
  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      await stopLive();
      sampler?.stop();
      await client.close();
    })());

  return {
    name: 'delivery check',
    close,
    start: startLive,
    live: (s) => ({ delivery: liveDelivery(s) }),
    snapshot: (s) => {
      latest = s;
    },
    async end(results) {
      await stopLive();
      rest429.base = client.stats.retries.rateLimited;
      rest429.count = 0;
      let d: DeliveryReport;
      try {
        const startTs = Math.min(attachedAt, results.startedAt) - 1000;
        d = await reconcile(results, startTs);
      } finally {
        await close();
      }
      const s: IngestLatencySampler | null = sampler;
      if (s) {
        d.ingestLatencyMs = s.summary();
        d.latencySample = { devices: latencyDevices.length, endpoint: s.endpoint, updates: s.updates };
      }
      d.notes = notes;
      const metricsDelivery: MetricsSnapshot['delivery'] = {
        sampleDevices: latencyDevices.length,
        ingestLatencyMs: s?.summary() ?? emptyPercentiles(),
        stored: d.totals.stored,
        lost: d.totals.lost,
        duplicates: d.totals.duplicates,
        rateLimitEvents: d.rateLimit?.count ?? 0,
        checkedAt: d.checkedAt,
      };
      for (const line of deliverySummary(d)) o.log?.(line);
      return { delivery: d, metricsDelivery, ...(s ? { ingestLatencyHistogram: s.encoded() } : {}) };
    },
  };

  async function reconcile(report: RunResults, startTs: number): Promise<DeliveryReport> {
    // devices of a crashed shard: their records end before their last publishes
    const crashed = new Set(report.shards.filter((x) => x.state === 'crashed').map((x) => x.id));
    const devices: ExpectedDevice[] = o.fleet.map((d) => {
      const r = report.devices[d.name];
      const open = r && crashed.has(r.shard) ? { open: true } : {};
      return {
        name: d.name,
        id: d.id,
        sent: r?.sent ?? 0,
        acked: r?.acked ?? 0,
        ...open,
        ...(d.workload === 'http' ? { answered: true } : {}),
      };
    });
    const sample = new Set(pickSample(devices, cfg.deliverySample).map((d) => d.name));
    let rest: Map<string, DeviceReadback> | null = null;
    let emu: Map<string, EmulatorRecord> | null = null;
    let error: string | undefined;
    let missing = new Set<string>();
    try {
      missing = await resolveByName(client, devices);
      rest = await reconcileRest({
        client,
        devices: devices.filter((d) => d.id),
        sample,
        startTs,
        concurrency: cfg.deliveryConcurrency,
        settleSec: cfg.deliverySettleSec,
        lateMs: cfg.deliveryLateMs,
        qos: cfg.qos as 0 | 1,
        ...(o.progress ? { progress: o.progress } : {}),
        onRequest,
      });
    } catch (e) {
      error = describeError(e);
      note(`REST read-back failed: ${error}`);
    }
    if (o.emulatorUrl) {
      try {
        emu = await readEmulator(o.emulatorUrl, devices);
      } catch (e) {
        note(`emulator stats not read: ${describeError(e)}`);
      }
    }
    const out: Record<string, DeliveryDevice> = {};
    for (const d of devices) {
      const r = rest?.get(d.name);
      if (missing.has(d.name)) out[d.name] = fromMissing(d);
      else if (r) out[d.name] = fromRest(d, r, note);
      else if (emu) out[d.name] = fromEmulator(d, emu.get(d.name)!);
    }
    const mismatches = rest && emu ? crossCheck(out, emu) : null;
    // devices not read one by one: the emulator's exact record fills in lost/duplicates
    if (rest && emu)
      for (const d of devices) if (!out[d.name].exact) out[d.name] = { ...fromEmulator(d, emu.get(d.name)!), late: out[d.name].late };
    if (missing.size)
      note(`${missing.size} gateway child device(s) do not exist on the server (never created by a connect), e.g. ${[...missing][0]}`);
    const totals = {
      sent: 0,
      acked: 0,
      stored: 0,
      lost: 0,
      duplicates: 0,
      late: 0,
      ackedNotStored: 0,
      unrecorded: 0,
      missing: missing.size,
    };
    for (const x of Object.values(out)) {
      totals.unrecorded += x.unrecorded ?? 0;
      totals.sent += x.sent;
      totals.acked += x.acked;
      totals.stored += x.stored;
      totals.lost += x.lost;
      totals.duplicates += x.duplicates;
      totals.late += x.late;
      totals.ackedNotStored += x.ackedNotStored ?? 0;
    }
    if (totals.unrecorded > 0) {
      note(
        `${totals.unrecorded} stored point(s) of the crashed shard's devices came after their last records (the shard died before ` +
          'reporting them): counted as `unrecorded`, not as duplicates or strays; their loss is counted up to the highest value stored',
      );
    }
    if (!crashed.size) delete (totals as { unrecorded?: number }).unrecorded;
    // gateway children: how many of them the server does not have (0 = every child exists)
    if (!o.fleet.some((d) => d.gateway)) delete (totals as { missing?: number }).missing;
    const devicesWithLoss = Object.entries(out)
      .filter(([, x]) => x.lost > 0)
      .sort((a, b) => b[1].lost - a[1].lost)
      .slice(0, LOSS_LIST_LIMIT)
      .map(([n]) => n);
    const emulatorRefused = emu ? new Map([...emu].map(([n, e]) => [n, e.rateLimited])) : undefined;
    const peakSentPerSec = Math.max(0, ...report.timeline.map((p) => p.sentPerSec));
    return {
      method: rest && emu ? 'both' : emu ? 'emulator-stats' : 'timeseries-count',
      checkedAt: new Date().toISOString(),
      totals,
      devices: out,
      rateLimit: attributeRateLimits({
        devices: report.devices,
        intervalSec: cfg.publishIntervalSec,
        peakSentPerSec,
        rest429,
        ...(emulatorRefused ? { emulatorRefused } : {}),
        alive: {
          startedAt: report.startedAt,
          timeline: report.timeline,
          publishIntervalSec: cfg.publishIntervalSec,
          endpoints: report.final.endpoints?.length,
          lastPublishAt: lastPublishOf(report.devices),
        },
      }),
      notes,
      window: { startTs, endTs: Date.now() },
      sampled: [...sample],
      devicesWithLoss,
      ...(mismatches ? { crossCheck: { agree: mismatches.length === 0, mismatches } } : {}),
      ...(error && !emu ? { error } : {}),
    };
  }
}
