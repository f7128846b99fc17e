import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { tblab, cleanEnv } from '../helpers/tblab-cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { makeReport, saveReport } from '../helpers/report-fixture.js';

/** A TCP server that only counts the connections it receives (stands for ThingsBoard's REST and MQTT ports). */
async function connectionCounter(t: TestContext): Promise<{ port: number; count(): number }> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as net.AddressInfo).port, count: () => n };
}

for (const command of ['suite', 'run', 'report']) {
  test(`a threshold typo stops \`tblab ${command}\` with exit 2 before any connection is made`, async (t) => {
    const target = await connectionCounter(t);
    const cwd = tmpDir(t, 'tblab-cli-');
    const env = cleanEnv({ TB_URL: `http://127.0.0.1:${target.port}`, MQTT_PORT: String(target.port) });
    const r = await tblab(t, [command, '--threshold', 'ack_p99<200ms', '--threshold', 'acks_p99<200ms'], { cwd, env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /error \[THRESHOLDS_INVALID\]: Invalid --threshold:\n {2}"acks_p99<200ms": unknown metric "acks_p99"; did you mean ack_p99\?/,
    );
    assert.equal(target.count(), 0, 'nothing connected to the target');
  });
}

test('report --threshold exits 0 when every threshold passes and 5 when one fails', async (t) => {
  const cwd = tmpDir(t, 'tblab-cli-');
  saveReport(`${cwd}/data`, makeReport({ devices: 20, durationSec: 20, ackMs: () => 40, failed: { 2: 1 } }));
  const pass = await tblab(t, ['report', '--threshold', 'ack_p99<100ms', '--threshold', 'connected_min>=devices'], { cwd });
  assert.equal(pass.code, 0, pass.stderr);
  assert.match(pass.stdout, /Thresholds: 2 of 2 passed/);
  const fail = await tblab(t, ['report', 'latest', '--threshold', 'ack_p99<100ms', '--threshold', 'failed==0'], { cwd });
  assert.equal(fail.code, 5, fail.stderr);
  assert.match(fail.stdout, /Thresholds: 1 of 2 passed[\s\S]*FAIL {2}failed==0 +failed = 1, required == 0/);
  assert.match(fail.stderr, /thresholds failed: failed==0/);
});
