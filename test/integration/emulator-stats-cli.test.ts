// `tblab emulator --stats-interval <s>` (an interface other tools rely on) sets the window of the
// emulated queue statistics and API usage reports; `--prometheus` serves /actuator/prometheus.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rest, restLogin } from '../helpers/emulator.js';
import { startTblab, tblab } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { parsePrometheusText, sumOf } from '../../src/thingsboard/prometheus.js';

async function startCli(t: TestContext, args: string[]): Promise<string> {
  const cli = startTblab(t, ['emulator', '--http-port', '0', '--mqtt-port', '0', ...args], { cwd: tmpDir(t, 'tblab-emu-stats-') });
  await waitFor('the REST line', () => /^REST /m.test(cli.stdout) || cli.child.exitCode !== null, 60_000);
  if (cli.child.exitCode !== null) throw new Error(`exited ${cli.child.exitCode} before listening: ${cli.stderr}`);
  return /^REST (\S+)/m.exec(cli.stdout)![1];
}

test('--stats-interval 1 --prometheus: a usage report within seconds, metrics served', { timeout: 90_000 }, async (t) => {
  const restUrl = await startCli(t, ['--stats-interval', '1', '--prometheus']);
  const { token } = await restLogin(restUrl);
  await rest(restUrl, 'POST', '/api/device?accessToken=STATS_TOKEN', { token, body: { name: 'stats-dev' } });
  assert.equal((await rest(restUrl, 'POST', '/api/v1/STATS_TOKEN/telemetry', { body: { sequence: 1, t: 1 } })).status, 200);
  const body = {
    entityFilter: { type: 'apiUsageState' },
    pageLink: { page: 0, pageSize: 1 },
    latestValues: [{ type: 'TIME_SERIES', key: 'transportMsgCount' }],
  };
  const started = Date.now();
  await waitFor(
    'a usage report counting the message',
    async () => {
      const r = await rest(restUrl, 'POST', '/api/entitiesQuery/find', { token, body });
      return r.body.data?.[0]?.latest?.TIME_SERIES?.transportMsgCount?.value === '1';
    },
    10_000,
    200,
  );
  assert.ok(Date.now() - started < 10_000, 'reported with the 1 s interval, not the default 60 s');
  const prom = await rest(restUrl, 'GET', '/actuator/prometheus');
  assert.equal(prom.status, 200);
  assert.equal(sumOf(parsePrometheusText(prom.body), 'ruleEngine_Main_total', { statsName: 'successfulMsgs' }).value, 1);
});

test('--stats-interval rejects a non-number, naming the flag', async (t) => {
  const r = await tblab(t, ['emulator', '--http-port', '0', '--mqtt-port', '0', '--stats-interval', 'soon'], {
    cwd: tmpDir(t, 'tblab-emu-stats-'),
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--stats-interval/);
});
