// Bad input files end in the error catalogue's code with the key or entry named, exit 2, and
// never a stack trace: a token file with broken entries (also found by `tblab check`), a report
// with missing sections, a scenario with a null stage, a missing .env file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator } from '../helpers/emulator.js';
import { cleanEnv, tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { PACKAGE_ROOT } from '../../src/common/version.js';

const STACK = /\n\s+at /;

function expectCode(r: { code: number | null; stderr: string }, code: string, ...named: RegExp[]) {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`error \\[${code}\\]`), r.stderr);
  assert.doesNotMatch(r.stderr, STACK, r.stderr);
  for (const re of named) assert.match(r.stderr, re);
}

const tokenFile = (devices: unknown) =>
  JSON.stringify({
    version: 1,
    server: 'http://127.0.0.1:1',
    prefix: 'sim',
    deviceProfileId: null,
    updatedAt: '2026-01-01T00:00:00Z',
    devices,
  });
const good = { index: 1, id: 'id-1', credentials: { type: 'ACCESS_TOKEN', token: 'secret-token-one' } };

test(
  'tokens.json: null token, missing credentials, "devices": null → CONFIG_FILE_UNREADABLE naming device and field',
  { timeout: 60_000 },
  async (t) => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { 'sim-001': good, 'sim-002': { index: 2, id: 'id-2', credentials: { type: 'ACCESS_TOKEN', token: null } } },
        /device "sim-002": "credentials\.token" is null/,
      ],
      [{ 'sim-001': { index: 1, id: 'id-1' } }, /device "sim-001": "credentials" is missing/],
      [null, /"devices" is null/],
      [
        { 'sim-001': { ...good, credentials: { type: 'MQTT_BASIC', clientId: null, username: null, password: 'pw-secret' } } },
        /device "sim-001": .*clientId.*username/,
      ],
    ];
    for (const [devices, named] of cases) {
      const dir = tmpDir(t, 'tblab-cli-');
      mkdirSync(join(dir, 'data', 'provisioning'), { recursive: true });
      writeFileSync(join(dir, 'data', 'provisioning', 'tokens.json'), tokenFile(devices));
      const r = await tblab(t, ['run', '--duration', '1'], { cwd: dir, env: cleanEnv({ TB_URL: 'http://127.0.0.1:1', MQTT_PORT: '1' }) });
      expectCode(r, 'CONFIG_FILE_UNREADABLE', named, /tokens\.json/, /tblab provision/);
      assert.doesNotMatch(r.stderr, /pw-secret|secret-token/);
    }
  },
);

test('tblab check finds a broken tokens.json even when the server and MQTT are fine', { timeout: 60_000 }, async (t) => {
  const emu = await startEmulator(t);
  const dir = tmpDir(t, 'tblab-cli-');
  mkdirSync(join(dir, 'data', 'provisioning'), { recursive: true });
  const broken = tokenFile({ 'sim-001': { ...good, credentials: { type: 'ACCESS_TOKEN', token: null } } });
  writeFileSync(join(dir, 'data', 'provisioning', 'tokens.json'), broken);
  const r = await tblab(t, ['check'], { cwd: dir, env: cleanEnv({ TB_URL: emu.restUrl, MQTT_PORT: String(emu.mqttPort) }) });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /tokens.*CONFIG_FILE_UNREADABLE|CONFIG_FILE_UNREADABLE.*sim-001/s);
  assert.match(r.stdout + r.stderr, /device "sim-001": "credentials\.token" is null/);
  assert.doesNotMatch(r.stdout + r.stderr, STACK);
});

test('a report with valid JSON but missing sections → REPORT_INVALID naming the section', { timeout: 60_000 }, async (t) => {
  const base = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', 'reports', 'baseline.json'), 'utf8'));
  const dir = tmpDir(t, 'tblab-cli-');
  const cases: Array<[string, (r: any) => void, RegExp]> = [
    [
      'latency-null',
      (r) => {
        r.metrics.latency = null;
      },
      /metrics\.latency is null/,
    ],
    [
      'no-timeline',
      (r) => {
        delete r.timeline;
      },
      /timeline is missing/,
    ],
    [
      'device-null',
      (r) => {
        r.devices[Object.keys(r.devices)[0]] = null;
      },
      /devices\[".+"\] is null/,
    ],
  ];
  const ok = await tblab(t, ['report', join(PACKAGE_ROOT, 'test', 'fixtures', 'reports', 'baseline.json')], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  for (const [name, edit, named] of cases) {
    const r = structuredClone(base);
    edit(r);
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(r));
    expectCode(await tblab(t, ['report', file], { cwd: dir }), 'REPORT_INVALID', named);
    const baseline = join(PACKAGE_ROOT, 'test', 'fixtures', 'reports', 'baseline.json');
    expectCode(await tblab(t, ['compare', file, baseline], { cwd: dir }), 'REPORT_INVALID', named);
  }
});

test('scenario {"STAGES":[null]} → CONFIG_INVALID naming STAGES[0]; a list of stages still works', { timeout: 30_000 }, async (t) => {
  const dir = tmpDir(t, 'tblab-cli-');
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ STAGES: [null] }));
  expectCode(await tblab(t, ['config', '--scenario', 'bad.json'], { cwd: dir }), 'CONFIG_INVALID', /STAGES\[0\] is null/);
  writeFileSync(join(dir, 'half.json'), JSON.stringify({ STAGES: [{ duration: '30s', target: '100%' }, { duration: '10s' }] }));
  expectCode(await tblab(t, ['config', '--scenario', 'half.json'], { cwd: dir }), 'CONFIG_INVALID', /STAGES\[1\]/);
  writeFileSync(
    join(dir, 'good.json'),
    JSON.stringify({
      STAGES: [
        { duration: '30s', target: '100%' },
        { duration: 10, target: 5 },
      ],
    }),
  );
  const r = await tblab(t, ['config', '--scenario', 'good.json', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).stages, '30s:100%,10:5');
});

test('--dotenv /missing → CONFIG_FILE_UNREADABLE, exit 2 (Node 20 claims --env-file itself)', { timeout: 30_000 }, async (t) => {
  const dir = tmpDir(t, 'tblab-cli-');
  expectCode(await tblab(t, ['config', '--dotenv', join(dir, 'missing.env')], { cwd: dir }), 'CONFIG_FILE_UNREADABLE', /missing\.env/);
  writeFileSync(join(dir, 'lab.env'), 'DEVICE_COUNT=7\n');
  const r = await tblab(t, ['config', '--dotenv', 'lab.env', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).deviceCount, 7);
});
