// The Python lab's .env keys: its duration key is read as DURATION_SEC (an unset duration now means
// "until stopped" against a real server, so ignoring it would turn a bounded run into an endless
// one); its keys with no equivalent here are named with what to use instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

const dir = () => tmpDir(fileScope, 'tblab-cfg-orig-');

test('DURATION_SEC is unset by default (the target decides: until stopped, or 60 s embedded)', () => {
  const r = loadConfig({ cwd: dir(), env: {} });
  assert.ok(r.ok);
  assert.equal(r.config.durationSec, undefined);
  assert.equal(r.origin.DURATION_SEC, 'default');
});

test("the Python lab's SIM_DURATION_SEC / SIM_DURATION_SECONDS are read as DURATION_SEC; ours wins in the same layer", () => {
  const d = dir();
  writeFileSync(join(d, '.env'), 'SIM_DURATION_SEC=120\n');
  const fromFile = loadConfig({ cwd: d, env: {} });
  assert.ok(fromFile.ok);
  assert.equal(fromFile.config.durationSec, 120);
  assert.deepEqual(fromFile.warnings, []);
  const fromEnv = loadConfig({ cwd: dir(), env: { SIM_DURATION_SECONDS: '45' } });
  assert.ok(fromEnv.ok);
  assert.equal(fromEnv.config.durationSec, 45, 'docker run --env-file passes .env keys as environment');
  const both = loadConfig({ cwd: dir(), env: { SIM_DURATION_SEC: '45', DURATION_SEC: '10' } });
  assert.ok(both.ok);
  assert.equal(both.config.durationSec, 10);
  const bad = loadConfig({ cwd: dir(), env: { SIM_DURATION_SEC: 'soon' } });
  assert.ok(!bad.ok);
  assert.equal(bad.problems[0].key, 'DURATION_SEC');
});

test("the Python lab's keys without an equivalent warn (.env, environment) or fail (--set) with what to use", () => {
  const d = dir();
  writeFileSync(join(d, '.env'), 'RAMP_PERCENTAGES=25 50 100\nMQTT_TOPIC=v1/devices/me/telemetry\n');
  const r = loadConfig({ cwd: d, env: { REPORT_INTERVAL_SEC: '15' } });
  assert.ok(r.ok);
  assert.equal(r.warnings.length, 3, r.warnings.join('\n'));
  assert.match(r.warnings.join('\n'), /RAMP_PERCENTAGES is the Python lab's key and is ignored here: ramps are STAGES here/);
  assert.match(r.warnings.join('\n'), /MQTT_TOPIC is the Python lab's key .*v1\/devices\/me\/telemetry/);
  const set = loadConfig({ cwd: dir(), env: {}, flags: { RAMP_COUNTS: '10 20' } as never });
  assert.ok(!set.ok);
  assert.match(set.problems[0].expected, /ramps are STAGES here/);
});
