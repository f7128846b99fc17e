// Control of a running engine: the disabled-devices file pauses and resumes exactly the listed
// devices; a shard killed mid-run is reported while the others finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { writeJsonAtomic } from '../../src/common/fs.js';
import type { DisabledDevicesFile } from '../../src/common/control.js';
import { startEmulator } from '../helpers/emulator.js';
import { emulatorFleet, testConfig, startRun, waitForSnapshot } from '../helpers/engine.js';
const sentOf = (s: { topDevices: Array<{ name: string; sent: number }> }, name: string) =>
  s.topDevices.find((d) => d.name === name)?.sent ?? -1;

test(
  'pausing three devices through the control file stops exactly their publishes; removing them resumes',
  { timeout: 120_000 },
  async (t) => {
    const emu = await startEmulator(t);
    const fleet = await emulatorFleet(emu.restUrl, 30);
    const config = testConfig(t, { MQTT_PORT: emu.mqttPort, MQTT_QOS: 1, DURATION_SEC: 0, PUBLISH_INTERVAL_SEC: 0.25 });
    const run = startRun(t, { config, fleet });
    await waitForSnapshot(run, (s) => s.connections.connected === 30 && s.traffic.sent > 60);
    const paused = ['sim-004', 'sim-017', 'sim-029'];
    writeJsonAtomic(config.disabledDevicesFile, {
      version: 1,
      updatedAt: new Date().toISOString(),
      devices: paused,
    } satisfies DisabledDevicesFile);
    const atPause = await waitForSnapshot(run, (s) => s.connections.paused === 3 && s.connections.connected === 27, 20_000);
    for (const name of paused) assert.equal(atPause.topDevices.find((d) => d.name === name)?.paused, true);
    const later = await waitForSnapshot(run, (s) => s.elapsedSec >= atPause.elapsedSec + 2.5);
    for (const name of paused) {
      assert.equal(sentOf(later, name), sentOf(atPause, name), `${name} published while paused`);
      assert.equal(
        emu.stats().perDevice[name].messages,
        sentOf(atPause, name),
        `${name}: the server stored exactly what was sent before the pause`,
      );
    }
    for (const name of ['sim-001', 'sim-016', 'sim-030'])
      assert.ok(sentOf(later, name) >= sentOf(atPause, name) + 2, `${name} kept publishing`);
    assert.ok(later.traffic.skipped >= 3, "the paused devices' due publishes are counted as skipped");
    rmSync(config.disabledDevicesFile);
    const resumed = await waitForSnapshot(
      run,
      (s) => s.connections.paused === 0 && paused.every((n) => sentOf(s, n) > sentOf(atPause, n)),
      20_000,
    );
    assert.equal(resumed.connections.connected, 30);
    run.stop('test end');
    const r = await run.done;
    assert.equal(r.outcome, 'aborted');
    assert.equal(r.metrics.disconnects.total, 0, 'a pause is not a disconnect');
    for (const d of Object.values(r.devices)) assert.equal(d.acked + d.failed, d.sent);
  },
);

test(
  'a shard killed mid-run is reported as crashed; the other shard finishes and the report is complete',
  { timeout: 120_000 },
  async (t) => {
    const emu = await startEmulator(t);
    const fleet = await emulatorFleet(emu.restUrl, 40);
    const config = testConfig(t, { MQTT_PORT: emu.mqttPort, MQTT_QOS: 1, DURATION_SEC: 6, PUBLISH_INTERVAL_SEC: 0.25, SHARDS: 2 });
    const run = startRun(t, { config, fleet });
    const s = await waitForSnapshot(run, (x) => x.connections.connected === 40 && x.traffic.sent > 80 && x.shards.every((sh) => sh.pid));
    process.kill(s.shards[0].pid!, 'SIGKILL');
    const killedAt = Date.now();
    const r = await run.done;
    assert.equal(r.outcome, 'degraded', 'finished without part of the fleet (issue 20 #7)');
    assert.equal(r.problem?.code, 'RUN_DEGRADED');
    assert.equal(r.metrics.shards[0].state, 'crashed');
    assert.equal(r.metrics.shards[0].exit, 'signal SIGKILL');
    assert.equal(r.metrics.shards[1].state, 'done');
    assert.ok(r.metrics.generator.notes.some((n) => /shard 0 .*crashed/.test(n)));
    const survivors = Object.entries(r.devices).filter(([, d]) => d.shard === 1);
    assert.equal(survivors.length, 20);
    for (const [name, d] of survivors) {
      assert.ok(d.lastPublishAt! > killedAt + 1000, 'surviving devices kept publishing after the crash');
      assert.equal(d.acked, d.sent);
      assert.equal(emu.stats().perDevice[name].messages, d.sent);
    }
  },
);
