// The gateway workload (src/device/mqtt-gateway.ts) end to end: against the emulator, which
// imitates ThingsBoard's gateway API (AbstractGatewaySessionHandler: children created on
// `v1/gateway/connect`, `{"child":[{"ts","values"}]}` stored per child, one aggregate PUBACK per
// publish), delivery truth per child device; against mosquitto, the bytes on the wire as a plain
// subscriber sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { deliveryCheck } from '../../src/lab/delivery/check.js';
import { labContext } from '../../src/lab/context.js';
import { provisionGateways } from '../../src/lab/provision-gateways.js';
import { gatewayFleet, readGatewayFile } from '../../src/lab/gateway-fleet.js';
import { assignWorkloads } from '../../src/lab/workload-fleet.js';
import type { FleetDevice } from '../../src/common/fleet.js';
import { fetchStats, startEmulator } from '../helpers/emulator.js';
import { startRun, testConfig } from '../helpers/engine.js';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { cleanup } from '../helpers/cleanup.js';
import { cleanEnv, tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

test('20 gateways × 50 children: every child exists on the server, per-child sent = stored, gap-free', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t, { recentRowsPerDevice: 100 });
  const config = testConfig(t, {
    TB_URL: emu.restUrl,
    MQTT_PORT: emu.mqttPort,
    MQTT_QOS: 1,
    GATEWAYS: 20,
    GATEWAY_CHILDREN: 50,
    DURATION_SEC: 20,
    PUBLISH_INTERVAL_SEC: 1,
    DELIVERY_SAMPLE: 20,
    DELIVERY_SETTLE_SEC: 5,
    LATENCY_SAMPLE: 0,
  });
  const p = await provisionGateways(labContext(), config);
  assert.equal(p.created, 20);
  const children = gatewayFleet(readGatewayFile(config.dataDir), {
    prefix: 'sim',
    gateways: 20,
    children: 50,
    instance: null,
    source: 'gateways.json',
  });
  const fleet = assignWorkloads(children.fleet, config.workloads);
  assert.equal(fleet.length, 1000);
  assert.equal(fleet[0].name, 'sim-g001-d0001');
  const check = deliveryCheck({ config, fleet, emulatorUrl: emu.restUrl });
  t.after(() => check.close());
  const report = await startRun(t, { config, fleet, writeFiles: false, sinks: [check] }).done;

  assert.equal(report.outcome, 'completed');
  const m = report.metrics;
  assert.ok(m.traffic.sent >= 1000, `sent ${m.traffic.sent}`);
  assert.equal(m.traffic.acked, m.traffic.sent);
  assert.equal(m.traffic.failed, 0);
  const stats = await fetchStats(emu.restUrl);
  assert.equal(stats.connections.accepted, 20, 'one MQTT connection per gateway, not per child');
  assert.equal(stats.gateway.created, 1000, 'ThingsBoard (the emulator) created every child on its connect');
  assert.equal(stats.gateway.disconnects, 1000, 'each child said goodbye');

  const d = report.delivery!;
  assert.equal(d.method, 'both');
  assert.equal(d.totals.missing, 0, 'every child exists on the server');
  assert.deepEqual(d.crossCheck, { agree: true, mismatches: [] });
  assert.equal(d.totals.sent, m.traffic.sent);
  for (const c of fleet) {
    const r = d.devices[c.name];
    assert.ok(r, c.name);
    assert.ok(r.sent >= 1, `${c.name} sent ${r.sent}`);
    assert.equal(r.stored, report.devices[c.name].sent, c.name);
    assert.equal(r.lost, 0, `${c.name}: gap-free`);
    assert.equal(r.duplicates, 0, c.name);
  }

  const w = report.workloads!.gateway as unknown as Record<string, number> & { batchMs: { count: number } };
  assert.equal(w.gateways, 20);
  assert.equal(w.children, 1000);
  assert.equal(w.sent, m.traffic.sent);
  assert.equal(w.acked, m.traffic.sent);
  assert.equal(w.connectsAcked, 1000);
  assert.equal(w.gatewaysConnected, 0, 'every gateway closed at the end');
  // children share their gateway's slot: one publish per gateway per interval carries all 50
  assert.ok(w.batches <= w.sent / 20, `${w.batches} gateway publishes for ${w.sent} child messages`);
  assert.equal(w.batchMs.count, w.batchesAcked);
});

test(
  'CLI: provision, run and delete a mixed fleet (--workload device --workload gateway): both reported, every row reconciled',
  { timeout: 60_000 },
  async (t) => {
    const emu = await startEmulator(t);
    const dir = tmpDir(t, 'tblab-gw-cli-');
    const env = cleanEnv({ TB_URL: emu.restUrl, MQTT_PORT: String(emu.mqttPort), DATA_DIR: `${dir}/data`, DASHBOARD: '0' });
    const mix = ['--workload', 'device', '--workload', 'gateway', '--gateways', '3'];
    const p = await tblab(t, ['provision', ...mix, '--count', '4', '--no-progress'], { cwd: dir, env });
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stderr, /provisioned 3 gateways "sim-gNNN": 3 created/);
    assert.match(p.stderr, /provisioned 4 devices/);
    assert.equal(readGatewayFile(`${dir}/data`)!.devices['sim-g002'].index, 2);
    const run = [...mix, '--devices', '4', '--children', '4', '--duration', '3', '--interval', '0.5', '--qos', '1', '--json'];
    const r = await tblab(t, ['run', ...run, '--threshold', 'gateway_failed==0'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.delivery.missing, 0);
    assert.equal(summary.delivery.stored, summary.sent);
    const report = JSON.parse(readFileSync(summary.report, 'utf8'));
    assert.equal(Object.keys(report.devices).length, 16);
    assert.ok(report.devices['sim-004'].sent >= 1 && report.devices['sim-g003-d0004'].sent >= 1);
    assert.equal(report.workloads.device.devices, 4);
    assert.equal(report.workloads.gateway.children, 12);
    assert.equal(report.workloads.device.sent + report.workloads.gateway.sent, summary.sent, 'traffic = the sum over the fleet workloads');
    const d = await tblab(t, ['delete', '--yes', '--no-progress'], { cwd: dir, env });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /deleted 19 device\(s\)/, 'the 4 devices, 3 gateways and the 12 children ThingsBoard created');
    assert.equal((await fetchStats(emu.restUrl)).devices, 0);
    assert.equal(readGatewayFile(`${dir}/data`), null, 'gateways.json goes with its last gateway');
  },
);

/** Lines `topic payload` printed by mosquitto_sub -v, collected until stopped. */
function subscribe(t: Parameters<typeof cleanup>[0], port: number, filter: string) {
  const lines: string[] = [];
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-v', '-q', '1', '-t', filter], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let rest = '';
  sub.stdout.on('data', (b: Buffer) => {
    const parts = (rest + b.toString('utf8')).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
  });
  cleanup(t, () => new Promise<void>((r) => (sub.exitCode !== null ? r() : (sub.once('exit', () => r()), sub.kill()))));
  return lines;
}

test(
  'mosquitto as a plain target: mosquitto_sub sees connects, batched gateway telemetry, attributes, disconnects',
  { skip: hasMosquitto() ? false : 'mosquitto is not installed', timeout: 60_000 },
  async (t) => {
    const { port } = await startMosquitto(t);
    const lines = subscribe(t, port, 'v1/gateway/#');
    // mosquitto_sub is subscribed once it prints a probe published after it started
    const probe = () => spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'v1/gateway/probe', '-m', '{}']);
    await waitFor('mosquitto_sub subscribed', () => lines.some((l) => l.startsWith('v1/gateway/probe')) || (probe(), false), 10_000, 200);
    const fleet: FleetDevice[] = [];
    for (let g = 1; g <= 3; g++)
      for (let c = 1; c <= 5; c++) {
        const gateway = { name: `sim-g00${g}`, index: g };
        fleet.push({
          name: `sim-g00${g}-d000${c}`,
          index: fleet.length + 1,
          id: '',
          credentials: { type: 'ACCESS_TOKEN', token: `gw${g}` },
          gateway,
          phase: (g - 1) / 3,
        });
      }
    const config = testConfig(t, { MQTT_PORT: port, MQTT_QOS: 1, DURATION_SEC: 3, PUBLISH_INTERVAL_SEC: 0.25, SHARDS: 2 });
    const report = await startRun(t, { config, fleet: assignWorkloads(fleet, config.workloads), writeFiles: false }).done;
    assert.equal(report.outcome, 'completed');
    assert.equal(report.metrics.traffic.acked, report.metrics.traffic.sent);
    await waitFor('the disconnects reached mosquitto_sub', () => lines.filter((l) => l.startsWith('v1/gateway/disconnect ')).length === 15);

    const of = (topic: string) => lines.filter((l) => l.startsWith(`${topic} `)).map((l) => JSON.parse(l.slice(topic.length + 1)));
    assert.deepEqual(
      of('v1/gateway/connect')
        .map((b) => b.device)
        .sort(),
      fleet.map((d) => d.name).sort(),
    );
    assert.deepEqual(
      of('v1/gateway/disconnect')
        .map((b) => b.device)
        .sort(),
      fleet.map((d) => d.name).sort(),
    );
    const attrs = Object.assign({}, ...of('v1/gateway/attributes'));
    assert.deepEqual(attrs['sim-g002-d0003'], { gateway: 'sim-g002', index: 8 });
    const batches = of('v1/gateway/telemetry') as Array<Record<string, Array<{ ts: number; values: Record<string, unknown> }>>>;
    const seqs = new Map<string, number[]>();
    for (const b of batches) {
      const children = Object.keys(b);
      // one publish carries children of one gateway only
      assert.equal(new Set(children.map((n) => n.slice(0, 8))).size, 1, JSON.stringify(children));
      for (const [name, points] of Object.entries(b))
        for (const p of points) {
          assert.equal(typeof p.ts, 'number');
          assert.equal(p.values.device, name);
          seqs.set(name, [...(seqs.get(name) ?? []), p.values.sequence as number]);
        }
    }
    let entries = 0;
    for (const d of fleet) {
      const s = seqs.get(d.name) ?? [];
      entries += s.length;
      assert.equal(s.length, report.devices[d.name].sent, d.name);
      assert.deepEqual(
        s,
        Array.from({ length: s.length }, (_, k) => k + 1),
        `${d.name}: sequences 1..n in order`,
      );
    }
    assert.equal(entries, report.metrics.traffic.sent);
    const w = report.workloads!.gateway as unknown as Record<string, number>;
    assert.equal(lines.filter((l) => !l.startsWith('v1/gateway/probe')).length, w.publishes, 'every PUBLISH the gateways wrote, seen once');
    assert.equal(w.batches, batches.length);
    // the children of a gateway share its slot: most publishes carry all five
    assert.ok(batches.length * 3 < entries, `${batches.length} publishes for ${entries} child messages`);
  },
);
