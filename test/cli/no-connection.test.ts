// A run that never delivered load is not a success (issue 20 #7): the built CLI against a closed
// port, against the emulator with tokens it does not know (CONNACK 5), with TLS against a plain
// port, and against mosquitto's self-signed certificate without MQTT_CA_FILE. Each exits with its
// documented code, outcome `failed`, the cause said live on the console and kept in the report.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTokenFile } from '../../src/lab/fleet-file.js';
import { ExitCode } from '../../src/common/errors.js';
import type { RunReport } from '../../src/report/schema.js';
import { testFleet } from '../helpers/engine.js';
import { startEmulator } from '../helpers/emulator.js';
import { hasMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { hasOpenssl, selfSigned } from '../helpers/tls.js';

function labDir(t: TestContext): string {
  const dir = tmpDir(t, 'tblab-noconn-');
  writeTokenFile(join(dir, 'data'), {
    version: 1,
    server: 'http://127.0.0.1:8080',
    prefix: 'sim',
    deviceProfileId: null,
    updatedAt: new Date().toISOString(),
    devices: Object.fromEntries(testFleet(4).map(({ name, ...d }) => [name, d])),
  });
  return dir;
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

interface Expect {
  exit: number;
  code: string;
  cause: RegExp;
  hint: RegExp;
}

async function zeroConnectionRun(t: TestContext, port: number, env: Record<string, string>, e: Expect): Promise<void> {
  const cwd = labDir(t);
  const r = await tblab(t, ['run', '--devices', '4', '--duration', '3', '--json'], {
    cwd,
    env: { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), SHARDS: '1', DASHBOARD: '0', DELIVERY_CHECK: '0', ...env },
  });
  assert.equal(r.code, e.exit, `exit ${r.code}\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { outcome: string; report: string; connected: number; problem: { code: string; hint: string } };
  assert.equal(out.outcome, 'failed');
  assert.equal(out.connected, 0);
  assert.equal(out.problem.code, e.code);
  // said while the run went (before its end line), with what to check
  const live = r.stderr.indexOf('no device connected yet: ');
  assert.ok(live >= 0 && live < r.stderr.indexOf('stopping ('), r.stderr);
  assert.match(r.stderr.slice(live), e.cause);
  assert.match(r.stderr, e.hint);
  assert.match(r.stderr, new RegExp(`failed \\[${e.code}\\]: No device connected`));
  const report = JSON.parse(readFileSync(out.report, 'utf8')) as RunReport;
  assert.equal(report.outcome, 'failed');
  assert.equal(report.metrics.state, 'failed');
  assert.equal(report.problem?.code, e.code);
  assert.equal(report.problem?.exitCode, e.exit);
  assert.match(report.problem!.message, e.cause);
  assert.match(report.problem!.hint, e.hint);
  assert.match(report.endReason, /no device connected/);
}

test('zero connections: nothing listens on MQTT_PORT → failed, exit 3, hint MQTT_HOST/MQTT_PORT', { timeout: 60_000 }, async (t) => {
  await zeroConnectionRun(
    t,
    await closedPort(),
    {},
    { exit: ExitCode.UNREACHABLE, code: 'NO_CONNECTION', cause: /ECONNREFUSED/, hint: /MQTT_PORT/ },
  );
});

test('zero connections: tokens unknown to the server (CONNACK 5) → failed, exit 4, hint provision', { timeout: 60_000 }, async (t) => {
  const emu = await startEmulator(t);
  await zeroConnectionRun(
    t,
    emu.mqttPort,
    {},
    {
      exit: ExitCode.TARGET_ERROR,
      code: 'MQTT_REFUSED',
      cause: /refused: not authorized \(5\)/,
      hint: /tblab provision/,
    },
  );
});

test('zero connections: MQTT_TLS=1 against a plain MQTT port → failed, exit 3, hint MQTT_TLS', { timeout: 60_000 }, async (t) => {
  const emu = await startEmulator(t);
  await zeroConnectionRun(
    t,
    emu.mqttPort,
    { MQTT_TLS: '1' },
    {
      // the emulator reads the ClientHello as the start of a packet and waits, or closes: either way the hint names MQTT_TLS
      exit: ExitCode.UNREACHABLE,
      code: 'NO_CONNECTION',
      cause: /no CONNACK|ECONNRESET|server closed|connection lost|EPROTO/,
      hint: /MQTT_TLS=0/,
    },
  );
});

const skipTls = !hasMosquitto() ? 'mosquitto is not installed' : !hasOpenssl ? 'openssl is not installed' : false;

test('zero connections: an untrusted certificate → failed, exit 3, hint MQTT_CA_FILE', { skip: skipTls, timeout: 60_000 }, async (t) => {
  const { certFile, keyFile } = selfSigned(t);
  const { port } = await startMosquitto(t, { certFile, keyFile });
  await zeroConnectionRun(
    t,
    port,
    { MQTT_TLS: '1' },
    {
      exit: ExitCode.UNREACHABLE,
      code: 'NO_CONNECTION',
      cause: /SELF_SIGNED|UNABLE_TO_VERIFY/,
      hint: /MQTT_CA_FILE/,
    },
  );
});
