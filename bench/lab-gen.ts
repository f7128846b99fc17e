// The lab's real engine as a benchmark generator: a ResolvedConfig from the same loader the CLI
// uses, a fleet of generated token devices (mosquitto accepts any username), `startRun`, and the
// numbers the harness asks for. Runs in its own process; the shards are its children.
import { loadConfigOrThrow } from '../src/config/index.js';
import { startRun } from '../src/lab/pipeline/start.js';
import { assignWorkloads } from '../src/lab/workload-fleet.js';
import type { MetricsSnapshot, SeriesPoint } from '../src/metrics/snapshot.js';
import { readSpec, tell, type ToGen } from './lib/protocol.js';
import { BENCH_PREFIX, benchFleet, benchGatewayFleet, intervalSec } from './lib/lab-fleet.js';

function main(): void {
  const spec = readSpec();
  const { config } = loadConfigOrThrow({
    cwd: spec.workDir,
    env: {},
    envFile: false,
    flags: {
      // as strings, the way .env and flags deliver them
      MQTT_HOST: spec.host,
      MQTT_PORT: String(spec.port),
      MQTT_QOS: String(spec.qos),
      DEVICE_PREFIX: BENCH_PREFIX,
      DEVICE_COUNT: String(spec.devices),
      PUBLISH_INTERVAL_SEC: String(intervalSec(spec)),
      DURATION_SEC: '0',
      CONNECT_RATE: String(spec.connectRate),
      SHARDS: String(spec.shards),
      SOURCE_ADDRESSES: spec.sourceAddresses.join(','),
      DASHBOARD: '0',
      DATA_DIR: spec.workDir,
    },
  });
  const t0 = performance.now();
  // --cpu-prof given to this process is passed on to the shards (they profile the hot path)
  const shardExecArgv = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  // a gateway scenario's rows are the children; mosquitto sees the gateways
  const fleet = spec.children ? benchGatewayFleet(spec.devices, spec.children) : benchFleet(spec.devices);
  const run = startRun({ config, fleet: assignWorkloads(fleet, config.workloads), restUrl: null, shardExecArgv });
  let connectedSent = false;
  let window: { from: number; to: number } | null = null;
  const points = new Map<number, SeriesPoint>();
  run.on('snapshot', (s: MetricsSnapshot) => {
    if (!connectedSent && s.connections.connected === fleet.length) {
      connectedSent = true;
      tell({ type: 'connected', connected: s.connections.connected, seconds: (performance.now() - t0) / 1000 });
    }
    const p = s.series[s.series.length - 1];
    if (p && window) points.set(p.ts, p);
  });
  process.on('message', (m: ToGen) => {
    if (m.type === 'window-start') window = { from: Date.now(), to: Infinity };
    else if (m.type === 'window-end' && window) window.to = Date.now();
    else if (m.type === 'stop') run.stop('benchmark phase ended');
  });
  run.done.then(
    (report) => {
      const m = report.metrics;
      // the window's lag: the worst per-second p99 inside it (conservative; no exact window histogram)
      const inWindow = window ? [...points.values()].filter((p) => p.ts > window!.from && p.ts <= window!.to + 1000) : [];
      const lags = inWindow.map((p) => p.scheduleLagP99Ms).filter((x): x is number => x !== null);
      const acks = inWindow.map((p) => p.ackP99Ms).filter((x): x is number => x !== null);
      // whole seconds inside the window: the rows' (children's) messages per second
      const inside = window ? inWindow.filter((p) => p.ts > window!.from + 1000 && p.ts <= window!.to) : [];
      const rowSentPerSec = inside.length ? inside.reduce((a, p) => a + p.sentPerSec, 0) / inside.length : null;
      const recs = Object.values(report.devices).filter((d) => d.connectedAt !== null && d.connectMs !== null);
      const firstAttempt = Math.min(...recs.map((d) => d.connectedAt! - d.connectMs!));
      const lastConnack = Math.max(...recs.map((d) => d.connectedAt!));
      tell({
        type: 'done',
        sent: m.traffic.sent,
        acked: m.traffic.acked,
        failed: m.traffic.failed,
        scheduleLagP99Ms: lags.length ? Math.max(...lags) : null,
        ackP50Ms: m.latency.ackMs.p50,
        ackP99Ms: acks.length ? Math.max(...acks) : null,
        connectSeconds: recs.length ? (lastConnack - firstAttempt) / 1000 : null,
        extra: {
          runScheduleLagP99Ms: m.latency.scheduleLagMs.p99,
          rowSentPerSec,
          gatewayPublishes: report.workloads?.gateway?.publishes ?? null,
          runAckP99Ms: m.latency.ackMs.p99,
          skipped: m.traffic.skipped,
          connectP99Ms: m.latency.connectMs.p99,
          eventLoopDelayP99Ms: m.generator.eventLoopDelayP99Ms,
          verdict: m.generator.verdict,
          disconnects: m.disconnects.total,
          shards: m.shards.length,
          reportPath: run.reportPath,
        },
      });
      process.disconnect?.();
    },
    (e: unknown) => {
      tell({ type: 'error', message: `lab: ${(e as Error).stack ?? String(e)}` });
      process.exitCode = 1;
    },
  );
}

main();
