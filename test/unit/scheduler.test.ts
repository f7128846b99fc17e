import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerWheel } from '../../src/engine/wheel.js';
import { TokenBucket } from '../../src/engine/token-bucket.js';
import { backoffDelay } from '../../src/engine/backoff.js';
import { parseStages, activeAt, stagesDurationSec } from '../../src/engine/stages.js';
import { planShards } from '../../src/engine/plan.js';
import { LabError } from '../../src/common/errors.js';

test('wheel fires each item once its tick has passed, never early, at most one tick late', () => {
  const w = new TimerWheel(3, 5, 16, 1000);
  w.schedule(0, 1012);
  w.schedule(1, 1003);
  w.schedule(2, 1100);
  const fired: Array<[number, number, number]> = [];
  for (let now = 1000; now <= 1120; now += 1) w.advance(now, (i, due) => fired.push([i, due, now]));
  assert.deepEqual(
    fired.map((f) => f[0]),
    [1, 0, 2],
  );
  for (const [, due, at] of fired) {
    assert.ok(at >= due, `fired at ${at} before due ${due}`);
    assert.ok(at - due <= 5, `fired ${at - due} ms late`);
  }
});

test('wheel: items beyond one rotation wait for their rotation; re-scheduling from fire works', () => {
  const w = new TimerWheel(1, 5, 8, 0); // rotation = 40 ms
  w.schedule(0, 130);
  const fires: number[] = [];
  for (let now = 0; now <= 400; now += 5) {
    w.advance(now, (i, due) => {
      fires.push(due);
      if (due < 300) w.schedule(i, due + 100);
    });
  }
  assert.deepEqual(fires, [130, 230, 330]);
});

test('wheel far behind fires each item at most once per advance call; the caller accounts the missed slots', () => {
  const w = new TimerWheel(3, 5, 64, 0);
  const interval = [100, 7, 1]; // ms: above, near and below the tick
  const base = [10, 3, 0];
  const sent = [0, 0, 0];
  const skipped = [0, 0, 0];
  for (let i = 0; i < 3; i++) w.schedule(i, base[i]);
  // the caller does what the shard does: one send per fire, older missed grid slots counted as skipped
  const run = (now: number) => {
    const fires = [0, 0, 0];
    w.advance(now, (i, due) => {
      fires[i]++;
      assert.equal(due, base[i]);
      const slots = now >= base[i] + interval[i] ? Math.floor((now - base[i]) / interval[i]) + 1 : 1;
      sent[i]++;
      skipped[i] += slots - 1;
      base[i] += slots * interval[i];
      assert.ok(base[i] > now, 'resumes on its grid after now');
      w.schedule(i, base[i]);
    });
    return fires;
  };
  // the loop was blocked until t=1000: one fire each, no spiral
  assert.deepEqual(run(1000), [1, 1, 1]);
  // every intended slot up to t=1000 is either sent or counted skipped: none vanish from the numbers
  assert.equal(sent[0] + skipped[0], 10); // 10, 110, ..., 910
  assert.equal(sent[1] + skipped[1], Math.floor((1000 - 3) / 7) + 1);
  assert.equal(sent[2] + skipped[2], 1001);
  // on time again: every later slot fires once per call, none skipped
  const before = skipped.slice();
  for (let now = 1005; now <= 1400; now += 5) for (const f of run(now)) assert.ok(f <= 1);
  assert.equal(skipped[0], before[0]);
  assert.equal(sent[0], 5); // 10 (late) then 1010, 1110, 1210, 1310
});

test('token bucket: limits connects to the rate with a 50 ms burst; 0 = unlimited', () => {
  const b = new TokenBucket(1000, 0);
  let taken = 0;
  for (let now = 0; now <= 1000; now += 5) {
    let n = b.available(now);
    while (n-- > 0) {
      b.take();
      taken++;
    }
  }
  assert.ok(taken >= 990 && taken <= 1051, `took ${taken}`);
  assert.equal(new TokenBucket(0, 0).available(0), Infinity);
  // a low rate with late ticks (a busy machine) keeps its rate: no fraction of a token is lost
  for (const tickMs of [5, 17, 40, 70]) {
    const slow = new TokenBucket(20, 0);
    let n = 0;
    for (let now = 0; now <= 2000; now += tickMs) for (let k = slow.available(now); k > 0; k--, n++) slow.take();
    assert.ok(n >= 39 && n <= 42, `20/s over 2 s with ${tickMs} ms ticks: ${n} taken`);
  }
});

test('backoff: full jitter under a doubling ceiling capped at the maximum', () => {
  assert.equal(
    backoffDelay(0, 1000, 30000, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(3, 1000, 30000, () => 1),
    8000,
  );
  assert.equal(
    backoffDelay(10, 1000, 30000, () => 1),
    30000,
  );
  assert.equal(
    backoffDelay(5, 1000, 30000, () => 0),
    0,
  );
  const seen = new Set(Array.from({ length: 50 }, () => Math.round(backoffDelay(2, 1000, 30000))));
  assert.ok(seen.size > 40, 'delays are spread, not synchronized');
  for (const d of seen) assert.ok(d >= 0 && d <= 4000);
});

test('stages: parse, ramp linearly, hold, ramp down; bad specs name the item', () => {
  const s = parseStages('10s:100%,1m:100%,10s:0%');
  assert.equal(stagesDurationSec(s), 80);
  assert.equal(activeAt(s, 200, 0), 0);
  assert.equal(activeAt(s, 200, 5), 100);
  assert.equal(activeAt(s, 200, 30), 200);
  assert.equal(activeAt(s, 200, 75), 100);
  assert.equal(activeAt(s, 200, 100), 0);
  assert.equal(activeAt(parseStages('2s:50'), 200, 2), 50);
  assert.equal(activeAt([], 7, 3), 7);
  assert.throws(
    () => parseStages('10s:100%,oops'),
    (e: unknown) => e instanceof LabError && /oops/.test(e.message),
  );
});

test('shard plan: one per core by default, more when the per-process cap needs it, contiguous slices', () => {
  assert.equal(planShards(100, 0, 15000, 2).length, 2);
  assert.equal(planShards(1, 0, 15000, 4).length, 1);
  const p = planShards(40000, 0, 15000, 2);
  assert.equal(p.length, 3);
  assert.equal(p[0].start, 0);
  assert.equal(p[2].end, 40000);
  for (let i = 1; i < p.length; i++) assert.equal(p[i].start, p[i - 1].end);
  assert.equal(planShards(10, 4, 15000, 2).length, 4);
});
