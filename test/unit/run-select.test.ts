import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectFleet } from '../../src/lab/run.js';
import { makeRunId } from '../../src/engine/run-files.js';
import { loadConfigOrThrow, type RawValues } from '../../src/config/index.js';
import { deviceName, type FleetDevice } from '../../src/common/fleet.js';
import { LabError } from '../../src/common/errors.js';

const cfg = (flags: RawValues) => loadConfigOrThrow({ cwd: '/tmp', env: {}, envFile: false, flags }).config;
const fleet = (n: number): FleetDevice[] =>
  Array.from({ length: n }, (_, k) => ({
    name: deviceName('sim', k + 1),
    index: k + 1,
    id: `i${k}`,
    credentials: { type: 'ACCESS_TOKEN', token: `t${k}` },
  }));

test('fleet selection: the first DEVICE_COUNT devices; an instance takes its slice, phases over the whole fleet', () => {
  assert.deepEqual(
    selectFleet(cfg({ DEVICE_COUNT: 4 }), fleet(10), 'x').fleet.map((d) => d.index),
    [1, 2, 3, 4],
  );
  const s = selectFleet(cfg({ DEVICE_COUNT: 10, INSTANCE: '2/3' }), fleet(10), 'x');
  assert.deepEqual(
    s.fleet.map((d) => d.index),
    [5, 6, 7],
  );
  assert.equal(s.fleetSize, 10);
  assert.throws(
    () => selectFleet(cfg({ DEVICE_COUNT: 11 }), fleet(10), 'tokens.json'),
    (e: unknown) => e instanceof LabError && e.code === 'NO_FLEET' && /tokens\.json has 10/.test(e.message),
  );
});

test('run id: UTC stamp, random suffix, instance tag', () => {
  const d = new Date(Date.UTC(2026, 10, 27, 14, 45, 1));
  assert.match(makeRunId(d), /^20261127-144501-[0-9a-f]{4}$/);
  assert.match(makeRunId(d, { index: 2, count: 4 }), /^20261127-144501-[0-9a-f]{4}-i2of4$/);
});
