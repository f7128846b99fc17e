// The `rpc` and `attributes` workloads against the embedded emulator (one for the whole file): the
// lab calls server-side RPC through REST and writes shared attributes as the tenant, its devices
// answer over MQTT, and every round trip is counted (sent = answered + timeouts + failed + in
// flight) and timed in HDR histograms. The emulator answers as ThingsBoard's RpcV1Controller /
// RpcV2Controller (AbstractRpcController#reply), DeviceActorMessageProcessor (delivery, expiry) and
// DefaultTelemetrySubscriptionService (shared-attribute pushes) do: docs/emulator.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawValues } from '../../src/config/index.js';
import type { FleetDevice } from '../../src/common/fleet.js';
import type { RunReport } from '../../src/report/schema.js';
import { prepareThresholds } from '../../src/lab/thresholds.js';
import { renderSummary } from '../../src/report/summary.js';
import { emulatorFleet, startRun, testConfig } from '../helpers/engine.js';
import { startEmulator, type StartedEmulator } from '../helpers/emulator.js';
import { fileScope } from '../helpers/cleanup.js';

const emu: StartedEmulator = await startEmulator(fileScope, { clientRpcReply: true });
const fleet: FleetDevice[] = await emulatorFleet(emu.restUrl, 200);

type Summary = Record<string, any>;

async function run(t: Parameters<typeof testConfig>[0], devices: number, flags: RawValues, thresholds: string[] = []): Promise<RunReport> {
  const config = testConfig(t, { MQTT_PORT: emu.mqttPort, TB_URL: emu.restUrl, DEVICE_COUNT: devices, ...flags });
  const sinks = thresholds.length
    ? [prepareThresholds({ expressions: thresholds, abortOnFail: false, abortGraceSec: 0, log: () => {} })]
    : [];
  return startRun(t, { config, fleet: fleet.slice(0, devices), writeFiles: false, sinks }).done;
}

/** The round trips reconcile exactly: every call ended one way or is still in flight. */
function reconciles(w: Summary): void {
  assert.equal(w.sent, w.answered + w.timeouts + w.failed + w.inFlight, JSON.stringify(w));
}

test(
  '200 devices answer two-way RPC at 100 calls/s: round-trip histogram filled, sent = answered + timeouts',
  { timeout: 90_000 },
  async (t) => {
    const before = emu.stats().rpc;
    // a long drain only waits while calls are under way: on a busy machine every call still ends
    const r = await run(t, 200, { WORKLOADS: 'rpc', RPC_RATE: 100, RPC_CLIENT_RATE: 20, DURATION_SEC: 4, DRAIN_TIMEOUT_MS: 20_000 }, [
      'rpc_p99<500ms',
      'rpc_timeouts==0',
    ]);
    const w = r.workloads!.rpc as Summary;
    t.diagnostic(
      `rpc: sent ${w.sent}, answered ${w.answered}, p50 ${w.latencyMs.p50} ms, p99 ${w.latencyMs.p99} ms, receive p50 ${w.receiveMs.p50} ms`,
    );
    // open model: 100 calls in each second since the first call, however slowly the devices connected
    assert.ok(Math.abs(w.rates.sent - 100) <= 5, `100 calls/s, got ${w.rates.sent}/s`);
    assert.ok(w.sent >= 100, `at least a second of calls, got ${w.sent}`);
    reconciles(w);
    assert.equal(w.sent, w.answered + w.timeouts, 'nothing failed, nothing left in flight');
    assert.equal(w.timeouts, 0);
    assert.equal(w.latencyMs.count, w.answered, 'every answered call is in the round-trip histogram');
    assert.equal(w.received, w.sent, 'every request reached its device');
    assert.equal(w.receiveMs.count, w.sent);
    assert.equal(w.devicesAnswered, w.sent);
    const after = emu.stats().rpc;
    assert.equal(after.requests - before.requests, w.sent, 'the server saw exactly the calls the lab counted');
    assert.equal(after.answered - before.answered, w.answered);
    assert.ok(w.clientSent > 0 && w.clientAnswered === w.clientSent, `client-side RPC ${w.clientAnswered}/${w.clientSent}`);
    assert.equal(after.clientAnswered - before.clientAnswered, w.clientSent);
    // `tblab report` text: the workload's section; no "stalled telemetry" for devices that only answer RPC
    const text = renderSummary(r);
    assert.match(text, new RegExp(`Workloads\\n  rpc: sent ${w.sent} \\(`));
    assert.match(text, /Devices with stalled telemetry: none/);
    // the thresholds read the workload's numbers (pass or fail by what this machine measured)
    assert.deepEqual(
      r.thresholds!.map((x) => [x.expression, x.actual, x.ok]),
      [
        ['rpc_p99<500ms', w.latencyMs.p99, w.latencyMs.p99 < 500],
        ['rpc_timeouts==0', 0, true],
      ],
    );
  },
);

// DeviceActorMessageProcessor#processRpcRequest: a one-way request is answered (AbstractRpcController#reply, 200,
// empty body) as soon as it was sent to a session subscribed to RPC; the device publishes no response
test(
  'one-way RPC: the REST call returns at delivery, sent = answered, every request reached its device',
  { timeout: 60_000 },
  async (t) => {
    // both response delays on: a two-way call would wait ≥ 600 ms, a one-way call waits for neither
    emu.setFaults({ rpcResponseDelayMs: 300 });
    t.after(() => emu.setFaults({ rpcResponseDelayMs: 0 }));
    const before = emu.stats().rpc;
    const r = await run(t, 50, {
      WORKLOADS: 'rpc',
      RPC_MODE: 'oneway',
      RPC_RATE: 50,
      RPC_RESPONSE_DELAY_MS: 300,
      DURATION_SEC: 2,
      DRAIN_TIMEOUT_MS: 20_000,
    });
    const w = r.workloads!.rpc as Summary;
    t.diagnostic(
      `oneway: sent ${w.sent}, answered ${w.answered}, p50 ${w.latencyMs.p50} ms, p99 ${w.latencyMs.p99} ms, receive p50 ${w.receiveMs.p50} ms`,
    );
    reconciles(w);
    assert.ok(w.sent >= 50, `about 50 calls/s, got ${w.sent}`);
    assert.equal(w.answered, w.sent, JSON.stringify(w));
    assert.deepEqual([w.timeouts, w.failed, w.inFlight], [0, 0, 0]);
    assert.equal(w.latencyMs.count, w.answered, 'each one-way call timed intended time → REST answer');
    assert.ok(w.latencyMs.p50 < 300, `returned at delivery, not after any response delay: p50 ${w.latencyMs.p50} ms`);
    assert.equal(w.received, w.sent, 'every request reached its device');
    assert.equal(w.notReceived, 0);
    assert.deepEqual([w.devicesAnswered, w.returnMs.count], [0, 0], 'devices publish no response to a one-way request');
    const after = emu.stats().rpc;
    assert.deepEqual(
      [after.requests - before.requests, after.delivered - before.delivered, after.answered - before.answered],
      [w.sent, w.sent, w.sent],
      'the server answered each call at its delivery',
    );
  },
);

test('devices not answering: every call ends as ThingsBoard’s 408 timeout, counted by cause', { timeout: 60_000 }, async (t) => {
  // v1 API; ThingsBoard (and the emulator) raise the 1 s timeout to min_timeout, 5 s: the drain waits for them
  const r = await run(t, 20, {
    WORKLOADS: 'rpc',
    RPC_RATE: 10,
    RPC_API: 'v1',
    RPC_TIMEOUT_MS: 1000,
    RPC_FAILURE_SHARE: 1,
    DURATION_SEC: 2,
    DRAIN_TIMEOUT_MS: 20_000,
  });
  const w = r.workloads!.rpc as Summary;
  reconciles(w);
  assert.ok(w.sent >= 10);
  assert.equal(w.timeouts, w.sent, JSON.stringify(w));
  assert.deepEqual(w.byCause, { '408 timeout (delivered, no response)': w.sent });
  assert.equal(w.received, w.sent, 'delivered, then left unanswered');
  assert.equal(w.devicesSilent, w.sent);
  assert.equal(w.latencyMs.count, 0);
});

test(
  'emulator RPC response delay 300 ms → round trip p50 ≥ 300 ms; shared-attribute pushes measured end to end (one run: rpc + attributes)',
  { timeout: 60_000 },
  async (t) => {
    emu.setFaults({ rpcResponseDelayMs: 300 });
    t.after(() => emu.setFaults({ rpcResponseDelayMs: 0 }));
    const down = emu.stats().downlink;
    const r = await run(t, 50, {
      WORKLOADS: 'rpc,attributes',
      RPC_RATE: 20,
      ATTRIBUTE_RATE: 50,
      ATTRIBUTE_REQUEST_RATE: 20,
      DURATION_SEC: 3,
      DRAIN_TIMEOUT_MS: 20_000,
    });
    const rpc = r.workloads!.rpc as Summary;
    t.diagnostic(`rpc p50 ${rpc.latencyMs.p50} ms, receive p50 ${rpc.receiveMs.p50} ms`);
    reconciles(rpc);
    assert.ok(rpc.answered >= 30, `about 20 calls/s for 3 s, got ${rpc.answered}`);
    assert.ok(rpc.latencyMs.p50 >= 300, `p50 ${rpc.latencyMs.p50}`);
    assert.ok(rpc.returnMs.p50 >= 300, `the wait is on the way back: return p50 ${rpc.returnMs.p50}`);
    assert.equal(rpc.returnMs.count, rpc.answered);

    const w = r.workloads!.attributes as Summary;
    t.diagnostic(
      `attributes: sent ${w.sent}, push p50 ${w.latencyMs.p50} ms, rest p50 ${w.restMs.p50} ms, request p50 ${w.requestLatencyMs.p50} ms`,
    );
    reconciles(w);
    assert.ok(w.sent >= 100, `about 50 writes/s for 3 s, got ${w.sent}`);
    assert.equal(w.answered, w.sent, 'every write was pushed to its device');
    assert.equal(w.written, w.sent);
    assert.equal(w.latencyMs.count, w.sent);
    assert.equal(w.unknownPushes, 0);
    assert.ok(w.requestSent > 0);
    assert.equal(w.requestAnswered, w.requestSent);

    // the lab subscribes every topic it is sent on at QoS 0 (`…/response/+` included), so everything comes down at
    // QoS 0 (MqttDeviceAwareSessionContext#getQoSForTopic), nothing at QoS 1, and there is nothing to PUBACK
    const d = emu.stats().downlink;
    assert.deepEqual([d.qos1 - down.qos1, d.pubacks - down.pubacks], [0, 0]);
    assert.ok(d.qos0 - down.qos0 >= w.sent + rpc.answered + w.requestAnswered, 'pushes, RPC requests and responses at QoS 0');
  },
);

test(
  'no REST login: the rpc workload makes no calls and the run fails with NO_CALLS (a run without load is no pass)',
  { timeout: 60_000 },
  async (t) => {
    const config = testConfig(t, {
      MQTT_PORT: emu.mqttPort,
      TB_URL: emu.restUrl,
      TB_PASSWORD: 'wrong',
      DEVICE_COUNT: 5,
      WORKLOADS: 'rpc',
      DURATION_SEC: 2,
    });
    const lines: string[] = [];
    const r = await startRun(t, { config, fleet: fleet.slice(0, 5), writeFiles: false, log: (l) => lines.push(l) }).done;
    assert.equal(r.outcome, 'failed');
    assert.equal(r.problem?.code, 'NO_CALLS');
    assert.equal((r.workloads!.rpc as Summary).sent, 0);
    assert.ok(
      lines.some((l) => /no REST login, no calls will be made: AUTH_FAILED/.test(l)),
      lines.join('\n'),
    );
    assert.ok(!lines.join('\n').includes('wrong'), 'the password is never logged');
  },
);
