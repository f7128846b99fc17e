import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InflightWindows, INFLIGHT_WINDOW } from '../../src/engine/inflight.js';

test('in-flight window: in-order and out-of-order acks return the send time; unknown ids are ignored', () => {
  const w = new InflightWindows(2, true);
  for (let id = 1; id <= 5; id++) w.push(1, id, id * 10);
  assert.equal(w.count(1), 5);
  assert.equal(w.count(0), 0);
  assert.equal(w.take(1, 1), 10);
  assert.equal(w.take(1, 4), 40); // out of order
  assert.equal(w.take(1, 4), -1); // already acked
  assert.equal(w.take(1, 99), -1);
  assert.equal(w.take(1, 2), 20);
  assert.equal(w.take(1, 3), 30);
  assert.equal(w.take(1, 5), 50);
  assert.equal(w.total(), 0);
});

test('in-flight window: expiry drops the oldest, wraps around the ring, fills up, clears', () => {
  const w = new InflightWindows(1, true);
  for (let k = 0; k < 3 * INFLIGHT_WINDOW; k++) {
    w.push(0, (k % 65535) + 1, k);
    if (k >= 10) assert.equal(w.take(0, ((k - 10) % 65535) + 1), k - 10);
  }
  assert.equal(w.count(0), 10);
  assert.equal(w.expire(0, 3 * INFLIGHT_WINDOW - 5), 5); // sent before t-5: the 5 oldest
  assert.equal(w.count(0), 5);
  while (!w.full(0)) w.push(0, 7, 1e9);
  assert.equal(w.count(0), INFLIGHT_WINDOW);
  assert.equal(w.clear(0), INFLIGHT_WINDOW);
  assert.equal(w.total(), 0);
});
