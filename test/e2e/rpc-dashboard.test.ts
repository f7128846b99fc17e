// The RPC workload on the live dashboard in real Chromium: a mixed run (devices publishing
// telemetry, and the lab calling two-way server-side RPC on the same devices through REST) against
// the embedded emulator; the page, fed only by the supervisor's snapshots, shows the rpc card's
// counters and latencies and its chart filling second by second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { buildDashboard } from '../../src/dashboard/index.js';
import type { RunReport } from '../../src/report/schema.js';
import { startEmulator } from '../helpers/emulator.js';
import { launchChromium, openPage } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';
import { emulatorFleet, startRun, testConfig } from '../helpers/engine.js';

const DEVICES = 20;
const PAGE_WAIT = [60_000, 250] as const;

const cardValue = (page: Page, card: string, label: string) => page.locator(`#${card} dt:text-is("${label}") + dd`).innerText();
/** "1.23k (20/s)" → 1230 */
const num = (s: string) => {
  const m = /^([\d.]+)\s*([kMG]?)/.exec(s.trim());
  assert.ok(m, `not a number: ${s}`);
  return Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]];
};

test('dashboard in Chromium: the rpc card and chart fill during a mixed run (device + rpc)', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator(t, { faults: { rpcResponseDelayMs: 20 } });
  const fleet = await emulatorFleet(emu.restUrl, DEVICES);
  const config = testConfig(t, {
    MQTT_PORT: emu.mqttPort,
    TB_URL: emu.restUrl,
    DEVICE_COUNT: DEVICES,
    SHARDS: 1,
    DURATION_SEC: 0,
    WORKLOADS: 'device,rpc',
    RPC_RATE: 20,
  });
  const run = startRun(t, { config, fleet, writeFiles: false });
  const dash = buildDashboard({ host: '127.0.0.1', port: 0, refreshMs: 500, runId: run.runId, onStop: (r) => run.stop(r) });
  run.on('snapshot', (s) => dash.publish(s));
  const url = await dash.listen();
  t.after(() => dash.close());

  const browser = await launchChromium(t);
  const { page, errors } = await openPage(browser, url);
  await waitFor('the rpc card', async () => (await page.locator('#card-workload-rpc').count()) === 1, ...PAGE_WAIT);
  await waitFor('rpc calls answered', async () => num(await cardValue(page, 'card-workload-rpc', 'answered')) >= 20, ...PAGE_WAIT);
  assert.ok(num(await cardValue(page, 'card-workload-rpc', 'sent')) >= 20);
  assert.match(await cardValue(page, 'card-workload-rpc', 'latency p50 / p99'), /^[\d.]+ ms \/ [\d.]+ ms$/);
  assert.match(await cardValue(page, 'card-workload-rpc', 'receive p50 / p99'), /^[\d.]+ ms \/ [\d.]+ ms$/);
  await waitFor(
    'rpc chart points',
    async () => Number(await page.locator('#chart-workload-rpc').getAttribute('data-points')) >= 3,
    ...PAGE_WAIT,
  );
  assert.equal(await page.locator('#chart-workload-rpc canvas').count(), 1);
  // the device workload runs alongside on the same connections
  assert.ok(num(await cardValue(page, 'card-workload-device', 'sent')) > 0);

  run.stop('test end');
  const final: RunReport = await run.done;
  const w = final.workloads!.rpc as Record<string, any>;
  assert.equal(w.sent, w.answered + w.timeouts + w.failed + w.inFlight);
  assert.ok(w.answered >= 20);
  assert.deepEqual(errors, []);
});
