// The rpc workload calling the gateway workload's children (RPC_TARGETS=children) against the embedded
// emulator, which carries them as ThingsBoard does: the request goes out on the child's gateway connection as
// `v1/gateway/rpc` {"device","data":{"id","method","params"}} (AbstractGatewayDeviceSessionContext
// #onToDeviceRpcRequest) and the gateway's reply {"device","id","data"} ends the REST call
// (AbstractGatewaySessionHandler#onDeviceRpcResponseJson); a request the gateway leaves unanswered ends at
// its expiry (DeviceActorMessageProcessor; AbstractRpcController#reply: v2 → 504).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawValues } from '../../src/config/index.js';
import { labContext } from '../../src/lab/context.js';
import { provisionGateways } from '../../src/lab/provision-gateways.js';
import { gatewayFleet, readGatewayFile } from '../../src/lab/gateway-fleet.js';
import { fleetParts } from '../../src/lab/run-fleet.js';
import { assignWorkloads } from '../../src/lab/workload-fleet.js';
import type { RunReport } from '../../src/report/schema.js';
import { startEmulator, type StartedEmulator } from '../helpers/emulator.js';
import { startRun, testConfig } from '../helpers/engine.js';
import { fileScope } from '../helpers/cleanup.js';

const emu: StartedEmulator = await startEmulator(fileScope);

type Summary = Record<string, any>;

async function run(t: Parameters<typeof testConfig>[0], flags: RawValues): Promise<RunReport> {
  const config = testConfig(t, {
    TB_URL: emu.restUrl,
    MQTT_PORT: emu.mqttPort,
    MQTT_QOS: 1,
    WORKLOADS: 'gateway,rpc',
    RPC_TARGETS: 'children',
    GATEWAYS: 5,
    GATEWAY_CHILDREN: 10,
    PUBLISH_INTERVAL_SEC: 1,
    DRAIN_TIMEOUT_MS: 20_000,
    ...flags,
  });
  assert.deepEqual(fleetParts(config), { devices: false, gateways: true }, 'no device sessions: the calls go to the children');
  await provisionGateways(labContext(), config);
  const { fleet } = gatewayFleet(readGatewayFile(config.dataDir), {
    prefix: 'sim',
    gateways: 5,
    children: 10,
    instance: null,
    source: 'x',
  });
  return startRun(t, { config, fleet: assignWorkloads(fleet, config.workloads), writeFiles: false }).done;
}

test('5 gateways × 10 children answer RPC at 20 calls/s through their gateways: sent = answered', { timeout: 60_000 }, async (t) => {
  const before = emu.stats().rpc;
  const r = await run(t, { RPC_RATE: 20, DURATION_SEC: 3 });
  const w = r.workloads!.rpc as Summary;
  t.diagnostic(
    `children: sent ${w.sent}, answered ${w.answered}, p50 ${w.latencyMs.p50} ms, p99 ${w.latencyMs.p99} ms, found ${w.childrenFound}, receive p50 ${w.receiveMs.p50} p99 ${w.receiveMs.p99}, return p50 ${w.returnMs.p50}, skipped ${w.skipped}`,
  );
  assert.equal(w.sent, w.answered + w.timeouts + w.failed + w.inFlight, JSON.stringify(w));
  assert.ok(w.sent >= 20, `about 20 calls/s, got ${w.sent}`);
  assert.equal(w.answered, w.sent, 'every call answered by its child’s gateway');
  assert.deepEqual([w.timeouts, w.failed, w.inFlight], [0, 0, 0]);
  assert.equal(w.received, w.sent, 'every request reached the gateway of its child');
  assert.equal(w.devicesAnswered, w.sent);
  assert.equal(w.latencyMs.count, w.answered);
  assert.equal(w.childrenFound, 50, 'each child looked up once by name');
  assert.equal(w.childLookupsFailed, 0);
  const after = emu.stats().rpc;
  assert.equal(after.requests - before.requests, w.sent, 'the server saw exactly the calls the lab counted');
  assert.equal(after.viaGateway - before.viaGateway, w.sent, 'every one went out through a gateway session');
  assert.equal(after.answered - before.answered, w.sent);
  // the children's telemetry went on next to the calls
  const g = r.workloads!.gateway as Summary;
  assert.equal(g.children, 50);
  assert.ok(g.acked > 0 && g.acked === g.sent, `gateway telemetry ${g.acked}/${g.sent}`);
});

test(
  'gateways not answering for their children: every call ends as ThingsBoard’s 504 timeout, by cause',
  { timeout: 60_000 },
  async (t) => {
    const r = await run(t, { RPC_RATE: 10, RPC_FAILURE_SHARE: 1, RPC_TIMEOUT_MS: 1000, DURATION_SEC: 2 });
    const w = r.workloads!.rpc as Summary;
    assert.equal(w.sent, w.answered + w.timeouts + w.failed + w.inFlight, JSON.stringify(w));
    assert.ok(w.sent >= 10);
    assert.equal(w.timeouts, w.sent, JSON.stringify(w));
    assert.deepEqual(w.byCause, { '504 timeout (delivered, no response)': w.sent });
    assert.equal(w.received, w.sent, 'delivered through the gateway, then left unanswered');
    assert.equal(w.devicesSilent, w.sent);
    assert.equal(w.latencyMs.count, 0);
  },
);
