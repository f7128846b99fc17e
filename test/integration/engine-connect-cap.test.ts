// CONNECT_MAX_IN_PROGRESS: the fleet never has more connects waiting for their CONNACK than the cap
// (a fleet-wide cap, split over the shards).
// Counted at an MQTT endpoint that holds CONNACKs back (neither mosquitto nor the emulator can).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { testConfig, startRun, testFleet, waitForSnapshot } from '../helpers/engine.js';

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const PINGRESP = Buffer.from([0xd0, 0x00]);

/**
 * Accepts connections and answers CONNECT only when `hold` sockets are waiting or when no new
 * connection came for `quietMs`; `maxPending` is the most sockets ever open without CONNACK.
 */
async function holdingBroker(t: TestContext, hold: number, quietMs = 400): Promise<{ port: number; maxPending: () => number }> {
  const pending = new Set<net.Socket>();
  let max = 0;
  let quiet: NodeJS.Timeout | null = null;
  const release = () => {
    for (const s of pending) s.write(CONNACK);
    pending.clear();
  };
  const server = net.createServer((s) => {
    pending.add(s);
    max = Math.max(max, pending.size);
    if (quiet) clearTimeout(quiet);
    quiet = setTimeout(release, quietMs);
    if (pending.size >= hold) release();
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'pingreq') s.write(PINGRESP);
      else if (p.cmd === 'disconnect') s.end();
    });
    s.on('data', (d) => parser.parse(d));
    s.on('error', () => {});
    s.on('close', () => pending.delete(s));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.after(() => {
    if (quiet) clearTimeout(quiet);
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, maxPending: () => max };
}

async function connectAll(t: TestContext, cap: number, devices: number, shards = 1, hold = cap > 0 ? cap : devices): Promise<number> {
  const broker = await holdingBroker(t, hold);
  const config = testConfig(t, {
    MQTT_PORT: broker.port,
    SHARDS: shards,
    CONNECT_RATE: 0,
    CONNECT_MAX_IN_PROGRESS: cap,
    DURATION_SEC: 0,
    PUBLISH_INTERVAL_SEC: 86_400,
  });
  const run = startRun(t, { config, fleet: testFleet(devices), writeFiles: false });
  await waitForSnapshot(run, (s) => s.connections.connected === devices, 60_000);
  run.stop('all connected');
  const r = await run.done;
  assert.equal(r.metrics.connections.succeeded, devices);
  assert.equal(r.metrics.connections.failed, 0);
  return broker.maxPending();
}

test(
  'with CONNECT_MAX_IN_PROGRESS=10, at most 10 connects wait for their CONNACK at once, and all 60 connect',
  { timeout: 120_000 },
  async (t) => {
    assert.equal(await connectAll(t, 10, 60), 10);
  },
);

test(
  'with CONNECT_MAX_IN_PROGRESS=0 (no cap), the same fleet has more than 10 connects in progress at once',
  { timeout: 120_000 },
  async (t) => {
    assert.ok((await connectAll(t, 0, 60)) > 10);
  },
);

test(
  'with CONNECT_MAX_IN_PROGRESS=10 over two shards, still at most 10 connects wait at once (5 per shard)',
  { timeout: 120_000 },
  async (t) => {
    // the endpoint holds every CONNACK until no connect came for 400 ms: a per-shard cap of 10 would reach 20
    assert.equal(await connectAll(t, 10, 60, 2, 60), 10);
  },
);
