// Debian's Chromium driven by playwright-core (headless, no sandbox, own profile directory), with
// every console error and page error of a page collected for the test to assert on. The profile and
// Chromium's TMPDIR are temp folders removed after the browser has closed.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { cleanup, type Scope } from './cleanup.js';
import { tmpDir } from './tmp.js';

export async function launchChromium(t: Scope): Promise<BrowserContext> {
  const profile = tmpDir(t, 'tblab-chromium-');
  // Chromium keeps its own scratch files (.org.chromium.*) in TMPDIR; a killed browser leaves them
  const scratch = tmpDir(t, 'tblab-chromium-tmp-');
  // a persistent context is how playwright takes --user-data-dir (a temp profile, removed after)
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, TMPDIR: scratch },
    timeout: 60_000,
    viewport: { width: 1440, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  cleanup(t, () => browser.close());
  return browser;
}

export async function openPage(browser: BrowserContext, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors };
}
