// The live view of a limit search in real Chromium: `tblab limit --embedded` with the emulator's
// capacity model serves one dashboard for the whole search; steps appear in the table and the
// load-vs-latency chart as they are judged, and the knee is marked once a step has failed above a good one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { launchChromium, openPage } from '../helpers/browser.js';
import type { LimitVerdict } from '../../src/lab/limit/types.js';

test(
  'live limit view in Chromium: steps appear one by one, the chart has a point per step, the knee is marked',
  { timeout: 300_000 },
  async (t) => {
    const cwd = tmpDir(t, 'tblab-e2e-limit-');
    const env = {
      DEVICE_COUNT: '30',
      SHARDS: '1',
      CONNECT_RATE: '0',
      DELIVERY_SETTLE_SEC: '1',
      LATENCY_SAMPLE: '0',
      DASHBOARD: '1',
      METRICS_PORT: '0',
      METRICS_REFRESH_MS: '500',
      KEEP_DASHBOARD: '1',
    };
    // 150, 300 pass; 600 fails; 450 fails and the gap (50 %) is within the resolution: four steps
    const args = [
      'limit',
      '--embedded',
      '--emulator-capacity',
      '300',
      '--vary',
      'rate',
      '--from',
      '150',
      '--to',
      '600',
      '--resolution',
      '60%',
      '--step-hold',
      '5',
      '--settle',
      '1',
      '--json',
    ];
    const lab = startTblab(t, args, { cwd, env });
    t.after(() => {
      if (lab.child.exitCode === null) lab.child.kill('SIGKILL');
    });
    await lab.waitFor(/dashboard: http:\/\/\S+/, 120_000);
    const url = /dashboard: (http:\/\/\S+)/.exec(lab.stderr)![1];

    const browser = await launchChromium(t);
    const { page, errors } = await openPage(browser, url);
    await page.locator('#limit-card').waitFor({ state: 'visible', timeout: 60_000 });
    // live: the first step shows while later ones are still to come
    await page.locator('#limit-steps tbody tr').first().waitFor({ timeout: 120_000 });
    const firstSeen = await page.locator('#limit-steps tbody tr').count();
    assert.ok(lab.child.exitCode === null && !/keeps showing/.test(lab.stderr), 'the search was still running when the first step showed');
    assert.ok(firstSeen < 4, `seen ${firstSeen} steps early`);

    await lab.waitFor(/keeps showing it/, 200_000);
    const v = (JSON.parse(lab.stdout) as { limit: LimitVerdict }).limit;
    await page.locator('#limit-verdict').waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await page.locator('#limit-verdict').innerText(), `Verdict: ${v.sentence}`);
    const counted = v.steps.filter((s) => !s.retried);
    assert.equal(await page.locator('#limit-steps tbody tr').count(), v.steps.length);
    assert.equal(await page.locator('#limit-chart circle.p99').count(), counted.length, 'one p99 point per counted step');
    assert.equal(await page.locator('#limit-chart circle.p99.fail').count(), counted.filter((s) => !s.passed).length);
    const knee = page.locator('#limit-chart line.knee');
    assert.equal(await knee.count(), 1, 'the knee is marked');
    assert.equal(await knee.getAttribute('data-knee'), `${v.sustained}-${v.brokeAt}`);
    // the knee sits between the last good and the first bad step's points
    const kx = Number(await knee.getAttribute('x1'));
    const cx = async (asked: number) => {
      const index = v.steps.find((s) => s.asked === asked && !s.retried)!.index;
      return Number(await page.locator(`#limit-chart circle.p99[data-step="${index}"]`).getAttribute('cx'));
    };
    assert.ok(kx > (await cx(v.sustained!)) && kx < (await cx(v.brokeAt!)), 'knee between the good and the bad point');
    assert.match((await page.locator('#limit-current').textContent()) ?? '', /done: \d+ steps/);
    // the last column: each step's tier from ThingsBoard's own statistics (the embedded emulator's)
    const tiers = await page.locator('#limit-steps tbody tr td:last-child').allInnerTexts();
    assert.deepEqual(
      tiers,
      v.steps.map((s) => s.measurement.server?.tier ?? '–'),
    );
    assert.ok(!tiers.includes('–'), `every step has a tier: ${tiers.join(', ')}`);
    assert.deepEqual(errors, []);

    lab.child.kill('SIGINT');
    const r = await lab.done;
    assert.equal(r.code, 0, r.stderr);
  },
);
