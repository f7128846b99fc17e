// GET /metrics: the latest snapshot as Prometheus text (prom-client, a registry of our own).
// Every series carries `run_id` (without an instance's `-i<i>of<N>`) and `instance`; counters are the snapshot's run totals (so they
// only grow within a run), latency histograms use the fixed LATENCY_BUCKETS_MS ladder.
import type { FastifyPluginAsync } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CumulativeBuckets, EndpointStats, MetricsSnapshot, Percentiles } from '../../metrics/snapshot.js';
import { LATENCY_BUCKETS_MS } from '../../metrics/buckets.js';
import type { SnapshotHub } from './hub.js';
import { fleetRunId } from '../../common/fleet.js';
import { PERCENTILES, workloadSeries, type Extra } from './prometheus-workloads.js';

type Base = { run_id: string; instance: string };

/**
 * A Prometheus histogram whose buckets come pre-counted from the snapshot: prom-client has no
 * public setter for bucket counts, so `get()` (the object every prom-client metric hands its
 * registry) is built here from the snapshot's cumulative counts.
 */
class SnapshotHistogram extends Histogram<'run_id' | 'instance'> {
  private current: { labels: Base; b: CumulativeBuckets } | null = null;

  constructor(private readonly spec: { name: string; help: string; registry: Registry }) {
    super({
      name: spec.name,
      help: spec.help,
      labelNames: ['run_id', 'instance'],
      buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
      registers: [spec.registry],
    });
  }

  setBuckets(labels: Base, b: CumulativeBuckets | undefined): void {
    this.current = b ? { labels, b } : null;
  }

  override async get(): ReturnType<Histogram['get']> {
    const { name, help } = this.spec;
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    const c = this.current;
    if (c) {
      c.b.leMs.forEach((le, i) =>
        values.push({ metricName: `${name}_bucket`, labels: { ...c.labels, le: le / 1000 }, value: c.b.counts[i] }),
      );
      values.push({ metricName: `${name}_bucket`, labels: { ...c.labels, le: '+Inf' }, value: c.b.count });
      values.push({ metricName: `${name}_sum`, labels: c.labels, value: c.b.sumMs / 1000 });
      values.push({ metricName: `${name}_count`, labels: c.labels, value: c.b.count });
    }
    return { name, help, type: 'histogram', values, aggregator: 'sum' } as unknown as Awaited<ReturnType<Histogram['get']>>;
  }

  /** The registry prefers this method when present (prom-client 15 registry.js). */
  getForPromString(): ReturnType<Histogram['get']> {
    return this.get();
  }
}

export class PrometheusExporter {
  readonly registry = new Registry();
  private readonly counters = new Map<string, [Counter<string>, (s: MetricsSnapshot) => Array<[Record<string, string>, number]>]>();
  private readonly gauges = new Map<string, [Gauge<string>, (s: MetricsSnapshot) => Array<[Record<string, string>, number]>]>();
  private readonly hists: Array<[SnapshotHistogram, (s: MetricsSnapshot) => CumulativeBuckets | undefined]> = [];

  constructor() {
    const one = (v: number) => [[{}, v]] as Array<[Record<string, string>, number]>;
    const map = (label: Extra, m: Record<string, number | undefined>) =>
      Object.entries(m)
        .filter((e): e is [string, number] => typeof e[1] === 'number')
        .map(([k, v]) => [{ [label]: k }, v] as [Record<string, string>, number]);
    const quantiles = (p: Percentiles) =>
      PERCENTILES.filter((k) => p[k] !== null).map((k) => [{ percentile: k }, (p[k] as number) / 1000] as [Record<string, string>, number]);

    this.counter('tblab_messages_sent_total', 'Publishes written to the socket.', [], (s) => one(s.traffic.sent));
    this.counter('tblab_messages_acked_total', 'PUBACKs received (QoS 1).', [], (s) => one(s.traffic.acked));
    this.counter('tblab_messages_failed_total', 'Publishes failed: write errors, ack timeouts, lost with a dropped connection.', [], (s) =>
      one(s.traffic.failed),
    );
    this.counter('tblab_messages_skipped_total', 'Scheduled publishes not sent because the device was down or paused.', [], (s) =>
      one(s.traffic.skipped),
    );
    this.counter('tblab_bytes_sent_total', 'MQTT PUBLISH bytes written.', [], (s) => one(s.traffic.bytesSent));
    this.counter(
      'tblab_connect_attempts_total',
      'MQTT connect attempts by outcome (accepted, CONNACK refusal, socket error).',
      ['outcome'],
      (s) => map('outcome', s.connections.byOutcome),
    );
    this.counter('tblab_disconnects_total', 'Disconnects by cause.', ['cause'], (s) => map('cause', s.disconnects.byCause));
    this.counter('tblab_disconnects_by_class_total', 'Disconnects by root-cause class.', ['class'], (s) =>
      map('class', s.disconnects.byClass),
    );
    this.counter('tblab_errors_total', 'Errors by class.', ['class'], (s) => map('class', s.errors.byClass));

    this.gauge('tblab_devices_configured', "Devices in this run (this instance's slice).", [], (s) => one(s.connections.configured));
    this.gauge('tblab_connected_devices', 'Devices connected now.', [], (s) => one(s.connections.connected));
    this.gauge('tblab_peak_connected_devices', 'Highest number of devices connected at once.', [], (s) => one(s.connections.peakConnected));
    this.gauge('tblab_paused_devices', 'Devices paused through the control file.', [], (s) => one(s.connections.paused));
    this.gauge('tblab_failed_devices', 'Devices that never connected or are down after a failure.', [], (s) =>
      one(s.connections.failedDevices),
    );
    this.gauge('tblab_in_flight_messages', 'QoS 1 publishes awaiting a PUBACK.', [], (s) => one(s.traffic.inFlight));
    this.gauge('tblab_elapsed_seconds', 'Seconds since the run started.', [], (s) => one(s.elapsedSec));
    this.gauge('tblab_run_state', '1 for the current run state.', ['state'], (s) => [[{ state: s.state }, 1]]);
    this.gauge('tblab_collapsed', '1 once connection or ack collapse was detected.', [], (s) => one(s.collapse ? 1 : 0));
    this.gauge('tblab_generator_rss_bytes', 'Resident memory of the lab.', [], (s) => one(Math.round(s.generator.rssMB * 1024 * 1024)));
    this.gauge('tblab_generator_event_loop_delay_p99_seconds', 'Event-loop delay p99 of the lab (its own health).', [], (s) =>
      s.generator.eventLoopDelayP99Ms === null ? [] : one(s.generator.eventLoopDelayP99Ms / 1000),
    );
    this.gauge(
      'tblab_ack_latency_quantile_seconds',
      'Publish→PUBACK latency percentiles over the run, this instance only (percentile="p50" … "max").',
      ['percentile'],
      (s) => quantiles(s.latency.ackMs),
    );
    this.gauge(
      'tblab_connect_latency_quantile_seconds',
      'TCP open→CONNACK latency percentiles over the run, this instance only.',
      ['percentile'],
      (s) => quantiles(s.latency.connectMs),
    );
    this.gauge(
      'tblab_schedule_lag_quantile_seconds',
      "Actual − intended send time percentiles (the generator's own lag).",
      ['percentile'],
      (s) => quantiles(s.latency.scheduleLagMs),
    );

    // per MQTT endpoint (MQTT_ENDPOINTS; one endpoint without it): `sum by (endpoint)` across instances
    const ends = (s: MetricsSnapshot) => s.endpoints ?? [];
    const perEndpoint = (f: (e: EndpointStats) => number) => (s: MetricsSnapshot) =>
      ends(s).map((e) => [{ endpoint: e.endpoint }, f(e)] as [Record<string, string>, number]);
    this.gauge(
      'tblab_endpoint_devices',
      'Devices assigned to the MQTT endpoint.',
      ['endpoint'],
      perEndpoint((e) => e.devices),
    );
    this.gauge(
      'tblab_endpoint_connected_devices',
      'Devices connected to the MQTT endpoint now.',
      ['endpoint'],
      perEndpoint((e) => e.connected),
    );
    this.counter('tblab_endpoint_connects_total', 'MQTT connect attempts per endpoint by result.', ['endpoint', 'result'], (s) =>
      ends(s).flatMap((e) => [
        [{ endpoint: e.endpoint, result: 'succeeded' }, e.succeeded] as [Record<string, string>, number],
        [{ endpoint: e.endpoint, result: 'failed' }, e.failed] as [Record<string, string>, number],
      ]),
    );
    this.counter('tblab_endpoint_disconnects_total', 'Disconnects per MQTT endpoint by cause.', ['endpoint', 'cause'], (s) =>
      ends(s).flatMap((e) =>
        map('cause', e.disconnects.byCause).map(([l, v]) => [{ endpoint: e.endpoint, ...l }, v] as [Record<string, string>, number]),
      ),
    );
    this.gauge(
      'tblab_endpoint_connect_latency_quantile_seconds',
      'TCP open→CONNACK latency percentiles per MQTT endpoint over the run, this instance only.',
      ['endpoint', 'percentile'],
      (s) =>
        ends(s).flatMap((e) =>
          quantiles(e.connectMs).map(([l, v]) => [{ endpoint: e.endpoint, ...l }, v] as [Record<string, string>, number]),
        ),
    );

    // each workload this build runs (issue 16): tblab_<prefix>_<counter>_total, tblab_<prefix>_latency_quantile_seconds, …
    for (const w of workloadSeries()) {
      if (w.type === 'counter') this.counter(w.name, w.help, w.labels, w.values);
      else this.gauge(w.name, w.help, w.labels, w.values);
    }

    this.histogram('tblab_ack_latency_seconds', 'Publish→PUBACK latency (cumulative over the run).', (s) => s.latencyBuckets?.ackMs);
    this.histogram(
      'tblab_connect_latency_seconds',
      'TCP open→CONNACK latency (cumulative over the run).',
      (s) => s.latencyBuckets?.connectMs,
    );
  }

  private counter(
    name: string,
    help: string,
    extra: Extra[],
    values: (s: MetricsSnapshot) => Array<[Record<string, string>, number]>,
  ): void {
    this.counters.set(name, [
      new Counter({ name, help, labelNames: ['run_id', 'instance', ...extra], registers: [this.registry] }),
      values,
    ]);
  }

  private gauge(name: string, help: string, extra: Extra[], values: (s: MetricsSnapshot) => Array<[Record<string, string>, number]>): void {
    this.gauges.set(name, [new Gauge({ name, help, labelNames: ['run_id', 'instance', ...extra], registers: [this.registry] }), values]);
  }

  private histogram(name: string, help: string, pick: (s: MetricsSnapshot) => CumulativeBuckets | undefined): void {
    const h = new SnapshotHistogram({ name, help, registry: this.registry });
    this.hists.push([h, pick]);
  }

  /** Replaces every series with the snapshot's values (called per scrape, not per publish). */
  sync(s: MetricsSnapshot): void {
    // run_id is the fleet run's id, shared by its instances (`instance` tells them apart), so
    // `sum by (run_id)` adds the instances of one run up
    const base: Base = { run_id: fleetRunId(s.runId), instance: s.instance ?? '1/1' };
    for (const [c, values] of this.counters.values()) {
      c.reset();
      for (const [labels, v] of values(s)) c.inc({ ...base, ...labels }, v);
    }
    for (const [g, values] of this.gauges.values()) {
      g.reset();
      for (const [labels, v] of values(s)) g.set({ ...base, ...labels }, v);
    }
    for (const [h, pick] of this.hists) h.setBuckets(base, pick(s));
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

export const prometheusPlugin: FastifyPluginAsync<{ hub: SnapshotHub }> = async (app, { hub }) => {
  const exporter = new PrometheusExporter();
  app.get('/metrics', async (_req, reply) => {
    const snap = hub.latest;
    if (snap) exporter.sync(snap);
    reply.header('content-type', exporter.registry.contentType);
    // before the first snapshot every metric is listed (HELP/TYPE) with no samples
    return exporter.metrics();
  });
};
