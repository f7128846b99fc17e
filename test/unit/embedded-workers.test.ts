// `--embedded` and the emulator's transport workers (src/lab/embedded.ts): how many a fleet gets,
// and the endpoint list read from `tblab emulator --workers`'s ready line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddedWorkerArgs, parseEndpointsLine, workersForFleet } from '../../src/lab/embedded.js';

test('one transport per 15,000 devices; a fleet one process holds keeps MQTT in the emulator process', () => {
  assert.deepEqual([1, 15_000, 15_001, 60_000, 100_000].map(workersForFleet), [1, 1, 2, 4, 7]);
  assert.deepEqual(embeddedWorkerArgs(300), []);
  assert.deepEqual(embeddedWorkerArgs(100_000), ['--workers', '7']);
});

test('MQTT_ENDPOINTS line → host and port per worker, IPv6 without brackets', () => {
  assert.deepEqual(parseEndpointsLine('127.0.0.1:1883,127.0.0.1:1884,[::1]:1885'), [
    { host: '127.0.0.1', port: 1883 },
    { host: '127.0.0.1', port: 1884 },
    { host: '::1', port: 1885 },
  ]);
});
