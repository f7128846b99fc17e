import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tblab, startTblab, cleanEnv } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { startMosquitto, hasMosquitto } from '../helpers/mosquitto.js';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import { deviceName } from '../../src/common/fleet.js';

/** A pid that surely is not running: a child that already exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid as number;

test('stop without a pid file says no lab is running (exit 2)', async (t) => {
  const cwd = tmpDir(t, 'tblab-cli-');
  const r = await tblab(t, ['stop'], { cwd });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error \[NOT_RUNNING\]: No pid file at .*data\/control\/tblab\.pid/);
});

test('a stale pid file is reported and removed', async (t) => {
  const cwd = tmpDir(t, 'tblab-cli-');
  const pidFile = join(cwd, 'data', 'control', 'tblab.pid');
  mkdirSync(join(cwd, 'data', 'control'), { recursive: true });
  const pid = deadPid();
  writeFileSync(
    pidFile,
    JSON.stringify({
      pid,
      runId: 'run-old',
      startedAt: new Date().toISOString(),
      instance: null,
      dashboardUrl: null,
      controlTokenFile: null,
    }),
  );
  const r = await tblab(t, ['stop'], { cwd });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`Stale pid file .*process ${pid} \\(run run-old\\) is gone; the file was removed`));
  assert.equal(existsSync(pidFile), false);
});

test(
  'stop from a second process: the run writes its report, exits 130 and removes its pid file',
  { skip: !hasMosquitto() && 'mosquitto not installed', timeout: 120_000 },
  async (t) => {
    const { port } = await startMosquitto(t);
    const cwd = tmpDir(t, 'tblab-cli-');
    const dataDir = join(cwd, 'data');
    writeTokenFile(dataDir, {
      version: 1,
      server: 'http://127.0.0.1:9',
      prefix: 'sim',
      deviceProfileId: null,
      updatedAt: new Date().toISOString(),
      devices: Object.fromEntries(
        Array.from({ length: 10 }, (_, k) => [
          deviceName('sim', k + 1),
          { index: k + 1, id: `id-${k + 1}`, credentials: { type: 'ACCESS_TOKEN' as const, token: `t${k + 1}` } },
        ]),
      ),
    });
    const env = cleanEnv({ MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), DEVICE_COUNT: '10', SHARDS: '1', DASHBOARD: '0' });
    const run = startTblab(t, ['run', '--duration', '0'], { cwd, env });
    await run.waitFor(/running: connected 10\/10|connected 10\/10/);
    const pidFile = join(dataDir, 'control', 'tblab.pid');
    assert.ok(existsSync(pidFile), 'the running lab wrote its pid file');
    const runId = JSON.parse(readFileSync(pidFile, 'utf8')).runId as string;

    const stop = await tblab(t, ['stop', '--json'], { cwd, env });
    assert.equal(stop.code, 0, stop.stderr);
    const result = JSON.parse(stop.stdout) as { runId: string; reportPath: string; via: string };
    assert.equal(result.runId, runId);
    assert.equal(result.via, 'signal');
    assert.equal(result.reportPath, join(dataDir, 'runs', `${runId}.json`));

    const ran = await run.done;
    assert.equal(ran.code, 130, ran.stderr);
    assert.equal(existsSync(pidFile), false);
    const report = JSON.parse(readFileSync(result.reportPath, 'utf8'));
    assert.equal(report.outcome, 'aborted');
    assert.equal(report.endReason, 'SIGTERM');
    assert.ok(report.metrics.traffic.sent > 0);
  },
);

test(
  'stop --via http asks the running lab through its dashboard control endpoint (as on Windows)',
  { skip: !hasMosquitto() && 'mosquitto not installed', timeout: 120_000 },
  async (t) => {
    const { port } = await startMosquitto(t);
    const cwd = tmpDir(t, 'tblab-cli-');
    const dataDir = join(cwd, 'data');
    writeTokenFile(dataDir, {
      version: 1,
      server: 'http://127.0.0.1:9',
      prefix: 'sim',
      deviceProfileId: null,
      updatedAt: new Date().toISOString(),
      devices: Object.fromEntries(
        Array.from({ length: 5 }, (_, k) => [
          deviceName('sim', k + 1),
          { index: k + 1, id: `id-${k + 1}`, credentials: { type: 'ACCESS_TOKEN' as const, token: `t${k + 1}` } },
        ]),
      ),
    });
    const env = cleanEnv({ MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), DEVICE_COUNT: '5', SHARDS: '1', METRICS_PORT: '0' });
    const run = startTblab(t, ['run', '--duration', '0'], { cwd, env });
    await run.waitFor(/dashboard: http:\/\/127\.0\.0\.1:\d+/);
    const pid = JSON.parse(readFileSync(join(dataDir, 'control', 'tblab.pid'), 'utf8'));
    assert.match(pid.dashboardUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(pid.controlTokenFile, join(dataDir, 'control', 'control-token'));

    const unauthorised = await fetch(`${pid.dashboardUrl}/api/control/stop`, { method: 'POST' });
    assert.equal(unauthorised.status, 401, 'the endpoint wants the token');

    const stop = await tblab(t, ['stop', '--via', 'http', '--json'], { cwd, env });
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(JSON.parse(stop.stdout).via, 'http');
    const ran = await run.done;
    assert.equal(ran.code, 130, ran.stderr);
    const report = JSON.parse(readFileSync(join(dataDir, 'runs', 'latest.json'), 'utf8'));
    assert.equal(report.endReason, 'stopped via control endpoint');
  },
);
