// The dashboard's ThingsBoard card and charts in real Chromium during a faulted run: the emulator
// (5 s stats windows, Prometheus on) processes each message 2.5 s after its PUBACK, past the rule
// engine's pack timeout, so queue timeouts appear; the server-stats sink feeds the live `server`
// section. The lab's own /metrics re-exports none of ThingsBoard's series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildDashboard } from '../../src/dashboard/index.js';
import { TbClient } from '../../src/thingsboard/client.js';
import { serverStatsRunSink } from '../../src/lab/server-stats-run-sink.js';
import { startEmulator } from '../helpers/emulator.js';
import { emulatorFleet, testConfig, startRun } from '../helpers/engine.js';
import { launchChromium, openPage } from '../helpers/browser.js';
import { metricsValidator } from '../helpers/metrics-schema.js';
import { parseExposition } from '../helpers/dashboard.js';
import { cleanup } from '../helpers/cleanup.js';
import { waitFor } from '../helpers/wait.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const PAGE_WAIT = [60_000, 250] as const;
const cardValue = (page: Page, label: string) => page.locator(`#card-server dt:text-is("${label}") + dd`).innerText();

test('the ThingsBoard card and charts fill during a run whose rule engine times out', { timeout: 180_000 }, async (t) => {
  const emu = await startEmulator(t, { serverStats: { intervalSec: 5, prometheus: true }, faults: { processingDelayMs: 2500 } });
  const fleet = await emulatorFleet(emu.restUrl, 5);
  const client = new TbClient({
    baseUrl: emu.restUrl,
    username: 'tenant@thingsboard.org',
    password: 'tenant',
    timeoutMs: 5000,
    retries: 0,
    connections: 4,
  });
  cleanup(t, () => client.close());
  const sink = serverStatsRunSink({
    client,
    metricsUrl: `${emu.restUrl}/actuator/prometheus`,
    queuePollMs: 1000,
    usagePollMs: 1000,
    systemPollMs: 2000,
    prometheusPollMs: 1000,
    queueWindowSec: 5,
  });
  const config = testConfig(t, { MQTT_PORT: emu.mqttPort, TB_URL: emu.restUrl, DURATION_SEC: 15, PUBLISH_INTERVAL_SEC: 0.5, SHARDS: 1 });
  const run = startRun(t, { config, fleet, writeFiles: false, sinks: [sink] });
  const dash = buildDashboard({ host: '127.0.0.1', port: 0, refreshMs: 500, runId: run.runId });
  run.on('snapshot', (s) => dash.publish(s));
  const url = await dash.listen();
  t.after(() => dash.close());

  const browser = await launchChromium(t);
  const { page, errors } = await openPage(browser, url);
  await waitFor('the ThingsBoard card', () => page.locator('#server-card').isVisible(), ...PAGE_WAIT);
  // the rule engine's timeouts of a whole 5 s window, as ThingsBoard wrote it
  await waitFor('queue timeouts', async () => /^[1-9][\d.,k]* \(5 s window\)$/.test(await cardValue(page, 'queue timeouts')), ...PAGE_WAIT);
  assert.match(await cardValue(page, 'lab sent'), /^[\d.]+\/s/);
  assert.match(await cardValue(page, 'transport msgs'), /^[\d.]+\/s \(5 s window\)$/);
  assert.match(await cardValue(page, 'write backlog'), /^\d/);
  assert.match(await page.locator('#server-notes').innerText(), /not visible: system info \(CPU, memory\): ThingsBoard answered 403/);
  for (const id of ['chart-server-rates', 'chart-server-problems']) {
    await waitFor(`${id} points`, async () => Number(await page.locator(`#${id}`).getAttribute('data-points')) >= 3, ...PAGE_WAIT);
    assert.equal(await page.locator(`#${id} canvas`).count(), 1);
  }

  // the live snapshot keeps its contract; /metrics exports only what the lab measured itself
  const validate = metricsValidator();
  const live = (await (await fetch(`${url}/api/metrics`)).json()) as { server: { series: Array<{ name: string }> } };
  assert.ok(validate(live), JSON.stringify(validate.errors));
  assert.ok(live.server.series.some((s) => s.name === 'queueStats.Main.timeoutMsgs'));
  const prom = parseExposition(await (await fetch(`${url}/metrics`)).text());
  assert.ok(prom.samples.length > 0);
  const foreign = prom.samples.filter((s) => /queue|usage|ruleEngine|rule_engine|transport_msg|storage|ts_queue|thingsboard/i.test(s.name));
  assert.deepEqual(
    foreign.map((s) => s.name),
    [],
    'no ThingsBoard series re-exported',
  );

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-thingsboard.png'), fullPage: true });
  const report = await run.done;
  assert.equal(report.server?.verdict.tier, 'rule-engine', report.server?.verdict.evidence.join('\n'));
  assert.deepEqual(errors, []);
});
