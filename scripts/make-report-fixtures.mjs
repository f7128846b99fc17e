#!/usr/bin/env node
// Regenerates test/fixtures/reports/{baseline,degraded}.json: two real runs of the built tblab
// against the embedded emulator (the second with injected faults), used by the golden-output tests
// of `tblab report` and `tblab compare` (test/cli/report-golden.test.ts; UPDATE_GOLDEN=1 rewrites
// the golden files). Run after `npx tsc -p .`: node scripts/make-report-fixtures.mjs
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve('dist/src/cli/main.js');
const OUT = resolve('test/fixtures/reports');

async function withEmulator(faults, fn) {
  const emu = spawn(process.execPath, [MAIN, 'emulator', '--http-port', '0', '--mqtt-port', '0', ...faults], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const urls = {};
  await new Promise((res) =>
    createInterface({ input: emu.stdout }).on('line', (l) => {
      if (l.startsWith('REST ')) urls.rest = l.slice(5).trim();
      if (l.startsWith('MQTT ')) urls.mqtt = new URL(l.slice(5).trim());
      if (urls.rest && urls.mqtt) res();
    }),
  );
  try {
    return await fn(urls);
  } finally {
    emu.kill('SIGTERM');
  }
}

function tblab(cwd, env, args) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tblab ${args.join(' ')} exited ${r.status}`);
  return r.stdout;
}

async function make(name, faults) {
  await withEmulator(faults, async ({ rest, mqtt }) => {
    const cwd = mkdtempSync(join(tmpdir(), `tblab-fixture-${name}-`));
    const env = {
      TB_URL: rest,
      MQTT_PORT: mqtt.port,
      DEVICE_COUNT: '30',
      SHARDS: '2',
      DASHBOARD: '0',
      CONNECT_RATE: '20',
      RECONNECT_MIN_MS: '500',
      RECONNECT_MAX_MS: '2000',
    };
    tblab(cwd, env, ['provision', '--no-progress']);
    const out = JSON.parse(tblab(cwd, env, ['run', '--duration', '15', '--json']));
    mkdirSync(OUT, { recursive: true });
    copyFileSync(out.report, join(OUT, `${name}.json`));
    console.error(`${name}: ${out.report} → ${join(OUT, `${name}.json`)}`);
  });
}

await make('baseline', []);
await make('degraded', ['--ack-latency-ms', '60', '--drop-share', '0.2', '--drop-after', '4', '--refuse-connects', '0.1']);
