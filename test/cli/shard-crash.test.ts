// kill -9 of one shard mid-run: the report stays consistent (totals = the sum of the devices'
// records, the crashed shard's devices keep their counts), the delivery check says what the server
// really stored (checked against the emulator's own record, not invented duplicates or strays),
// and a checkpoint taken mid-run says `partial` plainly, with records that add up to its totals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import type { RunReport } from '../../src/report/schema.js';
import { fetchStats, startEmulator } from '../helpers/emulator.js';
import { emulatorFleet } from '../helpers/engine.js';
import { startTblab, tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

type Sums = { sent: number; acked: number; failed: number; skipped: number };
const sums = (r: RunReport): Sums => {
  const out = { sent: 0, acked: 0, failed: 0, skipped: 0 };
  for (const d of Object.values(r.devices)) for (const k of Object.keys(out) as Array<keyof Sums>) out[k] += d[k];
  return out;
};
const totals = (r: RunReport): Sums => {
  const t = r.metrics.traffic;
  return { sent: t.sent, acked: t.acked, failed: t.failed, skipped: t.skipped };
};

const title = 'kill -9 of a shard: consistent report, delivery as the server stored it, partial checkpoints say so';
test(title, { timeout: 180_000 }, async (t) => {
  const emu = await startEmulator(t);
  const dir = tmpDir(t, 'tblab-crash-');
  const fleet = await emulatorFleet(emu.restUrl, 20);
  writeTokenFile(join(dir, 'data'), {
    version: 1,
    server: emu.restUrl,
    prefix: 'sim',
    deviceProfileId: null,
    updatedAt: new Date().toISOString(),
    devices: Object.fromEntries(fleet.map(({ name, ...d }) => [name, d])),
  });
  const env = {
    TB_URL: emu.restUrl,
    TB_USERNAME: 'tenant@thingsboard.org',
    TB_PASSWORD: 'tenant',
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(emu.mqttPort),
    SHARDS: '2',
    DASHBOARD: '0',
    CONNECT_RATE: '0',
    DELIVERY_SAMPLE: '4',
    DELIVERY_SETTLE_SEC: '2',
    LATENCY_SAMPLE: '0',
  };
  const p = startTblab(t, ['run', '--devices', '20', '--duration', '14', '--interval', '0.2', '--qos', '1', '--json'], { cwd: dir, env });
  const latest = join(dir, 'data', 'runs', 'latest.json');
  const sentSoFar = () => (existsSync(latest) ? (JSON.parse(readFileSync(latest, 'utf8')) as RunReport).metrics.traffic.sent : 0);
  await waitFor('a checkpoint with traffic', () => sentSoFar() > 100, 60_000);

  // a checkpoint: partial, and its device records add up to its totals
  const partialPath = join(dir, 'partial.json');
  copyFileSync(latest, partialPath);
  const partial = JSON.parse(readFileSync(partialPath, 'utf8')) as RunReport;
  assert.equal(partial.outcome, 'partial');
  assert.deepEqual(sums(partial), totals(partial), 'checkpoint: totals = sum of the device records');

  const shardPids = execFileSync('pgrep', ['-P', String(p.child.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map(Number);
  assert.equal(shardPids.length, 2, `two shard processes: ${shardPids.join(', ')}`);
  const killedAt = Date.now();
  process.kill(shardPids[0], 'SIGKILL');
  const exit = await p.exit;
  assert.equal(exit.signal, null, p.stderr);
  const report = JSON.parse(readFileSync(JSON.parse(p.stdout).report, 'utf8')) as RunReport;

  // totals = sum of the devices' records; the crashed shard's devices keep their counts
  assert.deepEqual(sums(report), totals(report), 'totals = sum of the device records');
  const crashed = report.metrics.shards.filter((s) => s.state === 'crashed');
  assert.deepEqual(
    crashed.map((s) => s.pid),
    [shardPids[0]],
  );
  const dead = Object.entries(report.devices).filter(([, d]) => d.shard === crashed[0].id);
  assert.equal(dead.length, 10);
  for (const [name, d] of dead) {
    assert.ok(d.sent > 0 && d.lastSequence === d.sent, `${name}: counts kept (sent ${d.sent}, last sequence ${d.lastSequence})`);
    assert.ok(d.lastPublishAt! <= killedAt + 100, `${name}: nothing after the crash`);
  }
  assert.equal(report.metrics.connections.connected, 0);
  const tr = report.metrics.traffic;
  assert.ok(tr.acked + tr.failed <= tr.sent && tr.inFlight === 0, JSON.stringify(tr));

  // the delivery check against the emulator's own per-device record
  const stats = await fetchStats(emu.restUrl);
  const d = report.delivery!;
  assert.ok(d, 'the delivery check ran');
  const emuStored = Object.values(stats.perDevice).reduce((a, x) => a + x.sequences + x.duplicates, 0);
  assert.equal(d.totals.stored, emuStored, 'stored = what the emulator stored');
  assert.equal(d.totals.duplicates, 0, 'no invented duplicates');
  assert.equal(d.totals.lost, 0, 'nothing lost');
  assert.doesNotMatch(d.notes.join('\n'), /outside 1\.\./, 'no invented out-of-range sequences');
  for (const [name, dev] of Object.entries(d.devices)) {
    const e = stats.perDevice[name];
    const recorded = report.devices[name];
    if (recorded.shard === crashed[0].id) {
      assert.equal(dev.sent + (dev.unrecorded ?? 0), e.maxSequence, `${name}: recorded + unrecorded = highest sequence stored`);
    } else {
      assert.equal(dev.unrecorded, undefined);
      assert.equal(e.maxSequence, recorded.sent, `${name}: the surviving shard's devices, all stored`);
    }
    assert.equal(dev.stored, e.sequences + e.duplicates, `${name}: stored`);
  }
  assert.ok((d.totals.unrecorded ?? 0) > 0, 'the crashed shard published after its last records (5 msg/s per device)');
  assert.equal(report.delivery!.totals.sent, report.metrics.traffic.sent);

  // `tblab report` says partial plainly; `tblab compare` warns when a side is partial
  const shown = await tblab(t, ['report', partialPath], { cwd: dir, env });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /PARTIAL — a checkpoint, not a finished run/);
  const cmp = await tblab(t, ['compare', partialPath, JSON.parse(p.stdout).report], { cwd: dir, env });
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.match(cmp.stderr, /compare: warning: A \(\S+\) is partial/);
  assert.match(cmp.stdout, /run A is partial/);
});
