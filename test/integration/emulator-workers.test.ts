// `tblab emulator --workers 3`: three MQTT transport processes, one port each, behind one REST front.
// The lab drives a fleet through every port; the front still sees one server: /__emulator/stats
// totals = what the lab sent, delivery truth per device, and a killed worker is reported, its
// sessions closed (`worker-exit`), and it is restarted on its port, where its devices reconnect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt from 'mqtt';
import type { EmulatorStats } from '../../src/emulator/index.js';
import type { RunReport } from '../../src/report/schema.js';
import type { FleetDevice } from '../../src/common/fleet.js';
import { deliveryCheck } from '../../src/lab/delivery/check.js';
import { emulatorFleet, startRun, testConfig, waitForSnapshot } from '../helpers/engine.js';
import { createDevice, fetchStats, restLogin, startEmulator } from '../helpers/emulator.js';
import { fileScope } from '../helpers/cleanup.js';
import { startTblab, tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const WORKERS = 3;
const DEVICES = 300;

// one emulator for the file: the CLI exactly as a user starts it
const cli = startTblab(
  fileScope,
  ['emulator', '--http-port', '0', '--mqtt-port', '0', '--workers', String(WORKERS), '--summary-every', '0'],
  {
    cwd: tmpDir(fileScope, 'tblab-emu-workers-'),
  },
);
const ready = (async () => {
  await cli.waitFor(/^MQTT mqtt:/m, 30_000);
  const line = (prefix: string) =>
    cli.stdout
      .split('\n')
      .find((l) => l.startsWith(prefix))!
      .slice(prefix.length);
  const restUrl = line('REST ');
  const endpoints = line('MQTT_ENDPOINTS ').split(',');
  const fleet = await emulatorFleet(restUrl, DEVICES);
  return { restUrl, endpoints, fleet };
})();

/** Device j of the fleet goes to endpoint j mod K (the lab's MQTT_ENDPOINTS rule); one run per endpoint. */
function slices(fleet: FleetDevice[]): FleetDevice[][] {
  return Array.from({ length: WORKERS }, (_, e) => fleet.filter((_d, j) => j % WORKERS === e));
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

test('--workers 3: the REST front answers for every worker: ready lines, one port per worker', async () => {
  const { endpoints, restUrl } = await ready;
  assert.equal(endpoints.length, WORKERS);
  assert.equal(new Set(endpoints).size, WORKERS);
  assert.match(cli.stdout, new RegExp(`^MQTT mqtt://${endpoints[0]}$`, 'm'), 'the MQTT line names worker 0 (one-endpoint clients)');
  const s = await fetchStats(restUrl);
  assert.deepEqual(
    s.workers?.map((w) => [w.endpoint, w.up, w.starts, w.exits]),
    endpoints.map((e) => [e, true, 1, 0]),
  );
  assert.equal(s.devices, DEVICES);
});

test('300 devices through 3 workers at QoS 1: stats totals = lab sent, delivery exact per device', { timeout: 60_000 }, async (t) => {
  const { restUrl, endpoints, fleet } = await ready;
  const before = await fetchStats(restUrl);
  const runs = slices(fleet).map((part, e) => {
    const config = testConfig(t, {
      TB_URL: restUrl,
      MQTT_PORT: portOf(endpoints[e]),
      SHARDS: 1,
      MQTT_QOS: 1,
      DURATION_SEC: 4,
      PUBLISH_INTERVAL_SEC: 1,
      DELIVERY_SAMPLE: 5,
      DELIVERY_SETTLE_SEC: 3,
      LATENCY_SAMPLE: 0,
    });
    const check = deliveryCheck({ config, fleet: part, emulatorUrl: restUrl });
    t.after(() => check.close());
    const run = startRun(t, { config, fleet: part, fleetSize: DEVICES, writeFiles: false, sinks: [check] });
    return { run, part };
  });
  // while they run, each worker holds its third of the fleet
  await Promise.all(runs.map(({ run }) => waitForSnapshot(run, (x) => x.connections.connected === DEVICES / WORKERS, 30_000)));
  const live = await fetchStats(restUrl);
  assert.deepEqual(
    live.workers!.map((w) => w.sockets),
    endpoints.map(() => DEVICES / WORKERS),
  );
  assert.equal(live.connections.current, DEVICES);
  const reports: RunReport[] = await Promise.all(runs.map(({ run }) => run.done));
  const after = await fetchStats(restUrl);
  let sent = 0;
  for (const [e, r] of reports.entries()) {
    assert.equal(r.outcome, 'completed', `run on ${endpoints[e]}`);
    assert.equal(r.metrics.traffic.failed, 0);
    sent += r.metrics.traffic.sent;
    const d = r.delivery!;
    assert.equal(d.method, 'both');
    assert.deepEqual(d.crossCheck, { agree: true, mismatches: [] });
    assert.equal(d.totals.stored, d.totals.sent);
    assert.equal(d.totals.lost, 0);
    assert.equal(d.totals.duplicates, 0);
    for (const dev of runs[e].part) {
      const rec = r.devices[dev.name];
      const st = after.perDevice[dev.name];
      assert.ok(rec.sent >= 2, `${dev.name} sent ${rec.sent}`);
      assert.equal(rec.acked, rec.sent, dev.name);
      assert.equal(st.messages - (before.perDevice[dev.name]?.messages ?? 0), rec.sent, `${dev.name} stored`);
      assert.equal(st.gaps, 0, dev.name);
      assert.equal(d.devices[dev.name].exact, true, dev.name);
    }
  }
  assert.ok(sent >= DEVICES * 2);
  assert.equal(after.messages - before.messages, sent, 'the front stored exactly what the lab sent, over all workers');
  assert.equal(after.faults.ingestDropped, 0);
});

test(
  'a killed worker: its sessions close as worker-exit, it restarts on its port, its devices reconnect there',
  { timeout: 60_000 },
  async (t) => {
    const { restUrl, endpoints, fleet } = await ready;
    const before = await fetchStats(restUrl);
    const runs = slices(fleet).map((part, e) => {
      const config = testConfig(t, {
        TB_URL: restUrl,
        MQTT_PORT: portOf(endpoints[e]),
        SHARDS: 1,
        MQTT_QOS: 1,
        DURATION_SEC: 0,
        PUBLISH_INTERVAL_SEC: 1,
        RECONNECT_MIN_MS: 300,
        RECONNECT_MAX_MS: 800,
        DELIVERY_SAMPLE: 0,
        LATENCY_SAMPLE: 0,
      });
      return startRun(t, { config, fleet: part, fleetSize: DEVICES, writeFiles: false });
    });
    await Promise.all(runs.map((run) => waitForSnapshot(run, (x) => x.connections.connected === DEVICES / WORKERS, 30_000)));
    const victim = before.workers![1];
    assert.ok(victim.pid);
    process.kill(victim.pid, 'SIGKILL');
    let s: EmulatorStats = before;
    await waitFor(
      'worker 1 restarted and its devices back',
      async () => {
        s = await fetchStats(restUrl);
        const w = s.workers![1];
        return w.exits === 1 && w.up && w.pid !== victim.pid && w.sockets === DEVICES / WORKERS && s.connections.current === DEVICES;
      },
      20_000,
      200,
    );
    assert.equal(s.workers![1].endpoint, endpoints[1], 'restarted on the same port');
    assert.equal(s.workers![1].starts, 2);
    assert.match(s.workers![1].lastExit ?? '', /SIGKILL/);
    assert.equal((s.connections.closed['worker-exit'] ?? 0) - (before.connections.closed['worker-exit'] ?? 0), DEVICES / WORKERS);
    assert.deepEqual(
      [s.workers![0], s.workers![2]].map((w) => [w.exits, w.pid]),
      [before.workers![0], before.workers![2]].map((w) => [0, w.pid]),
      'the other workers are untouched',
    );
    await cli.waitFor(/MQTT worker 1 \(port \d+\) exited \(SIGKILL\); 100 sockets closed; restarting it/, 5000);
    for (const run of runs) run.stop('test end');
    const reports = await Promise.all(runs.map((run) => run.done));
    const after = await fetchStats(restUrl);
    for (const [e, r] of reports.entries()) {
      for (const dev of slices(fleet)[e]) {
        const rec = r.devices[dev.name];
        const stored = after.perDevice[dev.name].messages - before.perDevice[dev.name].messages;
        // a PUBACK the dead worker could not write leaves a stored, unacknowledged message (ThingsBoard too)
        if (e === 1)
          assert.ok(rec.acked <= stored && stored <= rec.sent, `${dev.name}: acked ${rec.acked} ≤ stored ${stored} ≤ sent ${rec.sent}`);
        else assert.equal(stored, rec.acked, dev.name);
      }
      if (e === 1) assert.ok(r.metrics.connections.succeeded > DEVICES / WORKERS, 'the killed worker’s devices connected again');
      else assert.equal(r.metrics.disconnects.total, 0, `nothing happened to endpoint ${e}`);
    }
  },
);

// The workers are one server's transport: one tenant bucket for all of them (a ThingsBoard cluster's
// transport nodes each keep their own, DefaultTransportRateLimitService; docs/emulator.md#workers).
// Over the limit: DefaultTransportService#checkLimits drops the message, no PUBACK, v5 DISCONNECT 0x83.
test("limits are the one tenant's: the tenant rate limit counts publishes on every worker", async (t) => {
  const emu = await startEmulator(t, { workers: 2, rateLimits: { tenant: '3:60' } });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'a', 'A');
  await createDevice(emu.restUrl, token, 'b', 'B');
  const [a, b] = await Promise.all(
    ['A', 'B'].map((username, i) =>
      mqtt.connectAsync(`mqtt://${emu.mqttEndpoints[i]}`, { username, protocolVersion: 5, reconnectPeriod: 0 }),
    ),
  );
  t.after(() => void [a, b].forEach((c) => c.end(true)));
  for (const c of [a, b, a]) await c.publishAsync('v1/devices/me/telemetry', '{"x":1}', { qos: 1 });
  // the 4th message of the tenant, b's 2nd, on the other worker: refused, DISCONNECT 0x83, no PUBACK
  const reason = new Promise<number | undefined>((r) => b.once('disconnect', (p) => r(p.reasonCode)));
  b.publish('v1/devices/me/telemetry', '{"x":2}', { qos: 1 });
  assert.equal(await reason, 0x83);
  const s = emu.stats();
  assert.deepEqual([s.perDevice.a.messages, s.perDevice.b.messages, s.faults.rateLimited, s.messages], [2, 1, 1, 3]);
  assert.deepEqual(
    s.workers!.map((w) => w.endpoint),
    emu.mqttEndpoints,
  );
});

test('--workers with a port taken: PORT_IN_USE naming the worker', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  t.after(() => holder.close());
  const taken = (holder.address() as net.AddressInfo).port;
  const r = await tblab(t, ['emulator', '--http-port', '0', '--mqtt-port', String(taken), '--workers', '2'], {
    cwd: tmpDir(t, 'tblab-emu-workers-port-'),
  });
  assert.equal(r.code, 2, r.stderr);
  // worker 0 cannot have its port (worker 1 may not either: either failure names its worker)
  assert.match(r.stderr, /PORT_IN_USE.*MQTT worker \d: listen EADDRINUSE/);
});
