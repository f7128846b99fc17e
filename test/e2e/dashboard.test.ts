// The dashboard in real Chromium against a real run: the engine (startRun, shard processes, raw
// MQTT sessions) publishing to the embedded ThingsBoard emulator, which drops a share of the
// sessions a few seconds after CONNACK so the disconnect causes fill and devices reconnect.
// The page is fed only by the supervisor's snapshots, as in `tblab run`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loadConfigOrThrow } from '../../src/config/index.js';
import { deviceName, type FleetDevice } from '../../src/common/fleet.js';
import { buildDashboard, serveReport } from '../../src/dashboard/index.js';
import type { RunReport } from '../../src/report/schema.js';
import { startEmulator, restLogin, createDevice } from '../helpers/emulator.js';
import { emptyPercentiles } from '../../src/metrics/snapshot.js';
import { launchChromium, openPage } from '../helpers/browser.js';
import { metricsValidator } from '../helpers/metrics-schema.js';
import { parseExposition } from '../helpers/dashboard.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { startRun } from '../helpers/engine.js';

const DEVICES = 30;
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** Reads a `<dt>label</dt><dd>value</dd>` pair of a card as text. */
const cardValue = (page: Page, card: string, label: string) => page.locator(`#${card} dt:text-is("${label}") + dd`).innerText();

/** "1.23k" → 1230 */
const num = (s: string) => {
  const m = /^([\d.]+)\s*([kMG]?)/.exec(s.trim());
  assert.ok(m, `not a number: ${s}`);
  return Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]];
};

/** How long and how often the page is polled: up to a minute, every 250 ms. */
const PAGE_WAIT = [60_000, 250] as const;

test(
  'live dashboard in Chromium follows a real run: numbers move, charts fill, causes appear, stop ends it',
  { timeout: 240_000 },
  async (t) => {
    const emu = await startEmulator(t, { faults: { dropShare: 0.4, dropAfterSec: 5 } });
    const { token: jwt } = await restLogin(emu.restUrl);
    const fleet: FleetDevice[] = [];
    for (let i = 1; i <= DEVICES; i++) {
      const name = deviceName('sim', i);
      fleet.push({
        name,
        index: i,
        id: await createDevice(emu.restUrl, jwt, name, `token-${name}`),
        credentials: { type: 'ACCESS_TOKEN', token: `token-${name}` },
      });
    }
    const dir = tmpDir(t, 'tblab-e2e-dash-');
    const { config } = loadConfigOrThrow({
      cwd: dir,
      env: {
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: String(emu.mqttPort),
        DEVICE_COUNT: String(DEVICES),
        DURATION_SEC: '0',
        SHARDS: '1',
        PUBLISH_INTERVAL_SEC: '1',
        DATA_DIR: join(dir, 'data'),
      },
    });
    const run = startRun(t, { config, fleet, fleetSize: DEVICES, restUrl: emu.restUrl, writeFiles: false });

    const token = 'e2e-control-token-0123456789';
    const dash = buildDashboard({
      host: '127.0.0.1',
      port: 0,
      refreshMs: 500,
      runId: run.runId,
      controlToken: token,
      onStop: (r) => run.stop(r),
    });
    run.on('snapshot', (s) => dash.publish(s));
    const report = run.done.then((r) => {
      dash.setFinal(r);
      return r;
    });
    const url = await dash.listen();
    t.after(() => dash.close());

    const browser = await launchChromium(t);
    const { page, errors } = await openPage(browser, url);

    // numbers appear…
    await waitFor(
      'devices to connect',
      async () =>
        (await page.locator('#st-state').innerText()) === 'running' && num(await cardValue(page, 'card-connections', 'peak')) === DEVICES,
      ...PAGE_WAIT,
    );
    assert.equal(await page.locator('#run-id').innerText(), run.runId);
    assert.equal(num(await cardValue(page, 'card-connections', 'configured')), DEVICES);
    const sent1 = num(await cardValue(page, 'card-traffic', 'sent'));
    assert.ok(sent1 > 0);
    // …and change over time
    await waitFor('sent to grow', async () => num(await cardValue(page, 'card-traffic', 'sent')) >= sent1 + DEVICES * 2, ...PAGE_WAIT);
    assert.ok(num(await page.locator('#st-rate').innerText()) > 0);
    assert.match(await page.locator('#card-latency tbody tr').first().innerText(), /publish → ack\s+[\d.]+ ms/);
    assert.match(await page.locator('#feed-text').innerText(), /^live/);

    // the engine's own snapshots honour the contracts
    const validate = metricsValidator();
    const live = await (await fetch(`${url}/api/metrics`)).json();
    assert.ok(validate(live), JSON.stringify(validate.errors));
    const prom = parseExposition(await (await fetch(`${url}/metrics`)).text());
    assert.ok(prom.samples.find((s) => s.name === 'tblab_messages_sent_total' && s.labels.run_id === run.runId)!.value > 0);

    // charts hold points (one per second of the run so far)
    for (const id of ['chart-rate', 'chart-mbps', 'chart-connected', 'chart-ack']) {
      await waitFor(`${id} points`, async () => Number(await page.locator(`#${id}`).getAttribute('data-points')) >= 3, ...PAGE_WAIT);
      assert.equal(await page.locator(`#${id} canvas`).count(), 1);
    }
    // the device workload's card and chart (issue 16): the same run through the workloads' stats channel
    await waitFor(
      'device workload chart points',
      async () => Number(await page.locator('#chart-workload-device').getAttribute('data-points')) >= 3,
      ...PAGE_WAIT,
    );
    assert.equal(await page.locator('#chart-workload-device canvas').count(), 1);
    assert.ok(num((await cardValue(page, 'card-workload-device', 'sent')).split(' ')[0]) > 0);
    assert.equal(num(await cardValue(page, 'card-workload-device', 'devices')), DEVICES);
    assert.match(await cardValue(page, 'card-workload-device', 'latency p50 / p99'), /^[\d.]+ ms \/ [\d.]+ ms$/);

    // the emulator drops sessions: the causes table fills, devices reconnect
    await waitFor('disconnect causes', async () => (await page.locator('#card-causes tbody tr').count()) > 0, ...PAGE_WAIT);
    assert.equal(await page.locator('#causes-empty').isVisible(), false);
    assert.match(await page.locator('#card-causes tbody').innerText(), /server closed|connection lost/);
    await waitFor(
      'reconnects',
      async () => num((await cardValue(page, 'card-connections', 'connect attempts')).split(' ')[0]) > DEVICES + 3,
      ...PAGE_WAIT,
    );
    assert.ok(
      num(
        await page
          .locator('#disc-total')
          .innerText()
          .then((x) => x.replace('· ', '')),
      ) > 0,
    );

    // the device filter narrows the table; some devices show their disconnects
    assert.equal(await page.locator('#devices tbody tr').count(), DEVICES);
    const disconnects = await page.locator('#devices tbody tr td:nth-child(6)').allInnerTexts();
    assert.ok(
      disconnects.some((d) => Number(d) > 0),
      'top devices show disconnects',
    );
    await page.fill('#device-filter', 'sim-01');
    assert.equal(await page.locator('#devices tbody tr').count(), 10);
    await page.fill('#device-filter', 'no-such-device');
    assert.equal(await page.locator('#devices tbody tr').count(), 0);
    assert.equal(await page.locator('#devices-empty').isVisible(), true);
    await page.fill('#device-filter', '');

    // let the charts run a little longer, then keep the picture
    await new Promise((r) => setTimeout(r, 3000));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // stop through the control endpoint: the page shows the final state and stays up
    const refused = await fetch(`${url}/api/control/stop`, { method: 'POST' });
    assert.equal(refused.status, 401);
    const stop = await fetch(`${url}/api/control/stop`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(stop.status, 202);
    const final: RunReport = await report;
    assert.equal(final.endReason, 'stopped via control endpoint');
    await waitFor(
      'final banner',
      async () =>
        /Run ended/.test(
          await page
            .locator('#banner')
            .innerText()
            .catch(() => ''),
        ),
      ...PAGE_WAIT,
    );
    assert.match(await page.locator('#feed-text').innerText(), /run ended/);
    assert.equal(await page.locator('#st-state').innerText(), final.metrics.state);
    // the card rounds to 3 significant digits past 1,000 ("1.21k")
    const shown = num(await cardValue(page, 'card-traffic', 'sent'));
    assert.ok(
      Math.abs(shown - final.metrics.traffic.sent) <= final.metrics.traffic.sent * 0.005,
      `${shown} vs ${final.metrics.traffic.sent}`,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-final.png'), fullPage: true });

    assert.deepEqual(errors, []);

    // the same page shows the finished run from its report (tblab report --serve); the delivery card
    // gets the emulator's own stored count, reconciled against the acks as issue 7's check does
    const stored = emu.stats().messages;
    const delivery = {
      sampleDevices: DEVICES,
      ingestLatencyMs: emptyPercentiles(),
      stored,
      lost: Math.max(0, final.metrics.traffic.acked - stored),
      duplicates: 0,
    };
    const served = await serveReport({ ...final, metrics: { ...final.metrics, delivery } }, { host: '127.0.0.1', port: 0 });
    t.after(() => served.close());
    const view = await openPage(browser, served.url!);
    await waitFor('report view', async () => (await view.page.locator('#feed-text').innerText()) === 'stored report', ...PAGE_WAIT);
    assert.equal(num(await cardValue(view.page, 'card-traffic', 'sent')), num(await cardValue(page, 'card-traffic', 'sent')));
    assert.ok(Number(await view.page.locator('#chart-rate').getAttribute('data-points')) >= 3);
    assert.equal(await view.page.locator('#delivery-card').isVisible(), true);
    assert.ok(Math.abs(num(await cardValue(view.page, 'card-delivery', 'stored')) - stored) <= stored * 0.005);
    assert.equal(await page.locator('#delivery-card').isVisible(), false, 'no delivery card while delivery is null');
    assert.match(await view.page.locator('#card-causes tbody').innerText(), /server closed|connection lost/);
    await view.page.screenshot({ path: join(ARTIFACTS, 'dashboard-report.png'), fullPage: true });
    assert.deepEqual(view.errors, []);
  },
);
