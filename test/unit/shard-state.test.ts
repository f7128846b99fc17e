// The shard's state machine without sockets or timers: a fake clock, and a workload that records
// what the shard asks of it and closes connections when the test says the server did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardState } from '../../src/engine/shard-state.js';
import { S } from '../../src/engine/states.js';
import { C, D, D_FIELDS, C_FIELDS } from '../../src/engine/counters.js';
import { ERROR_KINDS, type Cause, type ErrorKind } from '../../src/device/causes.js';
import type { Workload, WorkloadHost } from '../../src/device/workload.js';
import type { ShardDevice, ShardSettings } from '../../src/engine/protocol.js';

/** Far from the machine's time: a mix of this clock and Date.now() would show. */
const T0 = 5_000_000_000_000;

class FakeClock {
  t = T0;
  now(): number {
    return this.t;
  }
}

/** Records every call; a close or abort becomes `closed` only when the test calls `settle`. */
class RecordingWorkload implements Workload {
  readonly calls: string[] = [];
  readonly appended: Array<{ i: number; seq: number; ts: number; ackId: number }> = [];
  private pending: Array<[number, Cause | null, ErrorKind | null]> = [];
  constructor(readonly host: WorkloadHost) {}
  connect(i: number): void {
    this.calls.push(`connect ${i}`);
  }
  backedUp(): boolean {
    return false;
  }
  append(i: number, seq: number, ts: number, ackId: number): number {
    this.appended.push({ i, seq, ts, ackId });
    return 100;
  }
  flush(i: number): void {
    this.calls.push(`flush ${i}`);
  }
  housekeep(): void {}
  close(i: number, graceful: boolean): void {
    this.calls.push(`close ${i} ${graceful ? 'graceful' : 'destroy'}`);
    this.pending.push([i, null, null]);
  }
  abort(i: number, cause: Cause, kind: ErrorKind | null): void {
    this.calls.push(`abort ${i} ${cause.cause}`);
    this.pending.push([i, cause, kind]);
  }
  /** The server side of every close asked for so far happens now. */
  settle(): void {
    const p = this.pending;
    this.pending = [];
    const seen = new Set<number>();
    for (const [i, c, k] of p) {
      if (seen.has(i)) continue;
      seen.add(i);
      this.host.closed(i, c, k);
    }
  }
  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
}

function settings(over: Partial<ShardSettings> = {}): ShardSettings {
  return {
    host: '127.0.0.1',
    port: 1,
    tls: null,
    mqttVersion: '3.1.1',
    qos: 1,
    keepaliveSec: 0,
    intervalMs: 1000,
    jitterMs: 0,
    ackTimeoutMs: 5000,
    connectTimeoutMs: 10_000,
    reconnect: true,
    reconnectMinMs: 1000,
    reconnectMaxMs: 30_000,
    connectRate: 0,
    connectMaxInProgress: 0,
    sourceAddresses: [],
    logEveryMessage: false,
    stages: [],
    fleetSize: 2,
    t0: T0,
    tickMs: 5,
    ...over,
  };
}

const devices: ShardDevice[] = [1, 2].map((k) => ({ name: `sim-${k}`, index: k, credentials: { type: 'ACCESS_TOKEN', token: `t${k}` } }));

function setup(over: Partial<ShardSettings> = {}) {
  const clock = new FakeClock();
  let work!: RecordingWorkload;
  let stopped = 0;
  const core = new ShardState(settings(over), devices, {
    clock,
    random: () => 0.5,
    onStopped: () => stopped++,
    workload: (host) => (work = new RecordingWorkload(host)),
  });
  /** Moves the clock in 5 ms ticks, as the shard's timers would, with housekeeping every 250 ms. */
  const run = (ms: number) => {
    for (const end = clock.t + ms; clock.t < end;) {
      clock.t += 5;
      core.tick();
      if ((clock.t - T0) % 250 === 0) core.housekeeping();
    }
  };
  const dev = (i: number, f: number) => core.tallies.dev[i * D_FIELDS + f];
  const err = (i: number, kind: ErrorKind) => dev(i, D.ERR0 + ERROR_KINDS.indexOf(kind));
  return { clock, core, work, run, dev, err, stopped: () => stopped };
}

test('connect → publish → ack: queue, connect, grid slot, one write per due row, ack latency', () => {
  const { clock, core, work, run, dev } = setup();
  core.start([]);
  assert.deepEqual([...core.state], [S.QUEUED, S.QUEUED]);
  run(5);
  assert.deepEqual(work.calls, ['connect 0', 'connect 1']);
  assert.deepEqual([...core.state], [S.CONNECTING, S.CONNECTING]);
  clock.t += 3;
  core.connected(0, clock.t);
  core.connected(1, clock.t);
  assert.equal(core.tallies.c[C.CONNECT_OK], 2);
  assert.equal(dev(0, D.CONNECTED_AT), T0 + 8);
  assert.equal(dev(0, D.CONNECT_MS), 3);
  // device 1 (index 1) has phase 0 → next slot T0 + 1000; device 2 (index 2) phase 500 → T0 + 500
  run(600);
  assert.deepEqual(
    work.appended.map((a) => [a.i, a.seq, a.ackId]),
    [[1, 1, 1]],
  );
  assert.ok(work.appended[0].ts >= T0 + 500 && work.appended[0].ts <= T0 + 510, 'payload time is the fake clock');
  run(500);
  assert.deepEqual(
    work.appended.map((a) => [a.i, a.seq, a.ackId]),
    [
      [1, 1, 1],
      [0, 1, 1],
    ],
  );
  assert.equal(work.count('flush'), 2);
  assert.equal(core.tallies.c[C.SENT], 2);
  assert.equal(core.tallies.c[C.BYTES], 200);
  assert.equal(core.inflight.total(), 2);
  clock.t += 7;
  core.acked(0, 1, clock.t, null);
  core.acked(0, 1, clock.t, null); // a duplicate ack counts nothing
  assert.equal(core.tallies.c[C.ACKED], 1);
  assert.equal(dev(0, D.ACKED), 1);
  assert.equal(core.inflight.total(), 1);
  const snap = core.tallies.take();
  assert.ok(
    snap.events.some((e) => e.ev === 'connected' && e.ts === T0 + 8),
    'events stamped by the fake clock',
  );
  assert.ok(snap.hist.ackMs.length > 0);
});

test('ack timeout fails the message once; a refused ack counts a puback error', () => {
  const { clock, core, work, run, dev, err } = setup({ qos: 1, ackTimeoutMs: 2000 });
  core.start([]);
  run(5);
  core.connected(0, clock.t);
  core.connected(1, clock.t);
  run(1100); // both sent message 1
  assert.equal(core.tallies.c[C.SENT], 2);
  core.acked(1, 1, clock.t, 'puback: quota exceeded (0x97)');
  assert.equal(err(1, 'puback-error'), 1);
  run(1500); // message 1 of device 0 is 2.1–2.6 s old at the 250 ms housekeeping after 2 s
  assert.equal(err(0, 'ack-timeout'), 0, 'not before ACK_TIMEOUT_MS');
  run(1000);
  assert.equal(err(0, 'ack-timeout'), 1);
  assert.equal(dev(0, D.FAILED), 1);
  core.acked(0, 1, clock.t, null); // late ack of a message already failed
  assert.equal(core.tallies.c[C.ACKED], 0);
  assert.equal(core.tallies.c[C.FAILED], 2);
  assert.ok(work.count('flush') >= 4);
  assert.ok(core.tallies.take().events.some((e) => e.ev === 'ack-timeout' && e.device === 'sim-1'));
});

test('reconnect with backoff: lost in flight, close right after a publish, backoff grows, connect timeout', () => {
  const { clock, core, work, run, dev, err } = setup({ reconnectMinMs: 1000, reconnectMaxMs: 30_000, connectTimeoutMs: 3000 });
  core.start([]);
  run(5);
  core.connected(0, clock.t);
  run(1000); // device 0 sends at T0 + 1000
  assert.equal(core.inflight.count(0), 1);
  clock.t += 10;
  core.closed(0, null, null); // the server closed 10 ms after an unacknowledged publish
  assert.equal(core.state[0], S.BACKOFF);
  assert.equal(err(0, 'lost-in-flight'), 1);
  assert.equal(dev(0, D.DISCONNECTS), 1);
  const snap = core.tallies.take();
  assert.equal(snap.byCause['server closed after publish (rate limit suspected)'], 1, 'publish and close on one clock');
  assert.equal(snap.disconnects[0].at, clock.t);
  // attempt 0: delay = 0.5 × 1000 ms
  run(490);
  assert.equal(core.state[0], S.BACKOFF);
  run(20);
  assert.equal(core.state[0], S.CONNECTING);
  assert.equal(work.count('connect 0'), 2);
  // no CONNACK: connect timeout after 3 s (housekeeping), then backoff attempt 1 = 0.5 × 2000 ms
  run(3300);
  assert.ok(work.count('abort 0 connect timeout') >= 1);
  work.settle();
  assert.equal(core.state[0], S.BACKOFF);
  assert.equal(dev(0, D.CONNECT_FAILURES), 1);
  assert.equal(err(0, 'connect-timeout'), 1);
  const retryFrom = clock.t;
  run(990);
  assert.equal(core.state[0], S.BACKOFF);
  run(20);
  assert.equal(core.state[0], S.CONNECTING);
  assert.ok(clock.t - retryFrom >= 1000);
  core.connected(0, clock.t);
  assert.equal(core.state[0], S.UP);
  core.closed(0, { cause: 'ECONNRESET', class: 'network' }, null);
  run(490);
  assert.equal(core.state[0], S.BACKOFF, 'a connect resets the backoff to its first step');
  run(20);
  assert.equal(core.state[0], S.CONNECTING);
});

test('pause closes gracefully, skips the paused slots, and resume reconnects; a silent server is destroyed after the grace', () => {
  const { clock, core, work, run, dev } = setup();
  core.start(['sim-2']);
  assert.equal(core.state[1], S.PAUSED);
  run(5);
  assert.deepEqual(work.calls, ['connect 0']);
  core.connected(0, clock.t);
  core.setPaused(['sim-1', 'sim-2']);
  assert.equal(core.state[0], S.CLOSING);
  assert.equal(work.calls.at(-1), 'close 0 graceful');
  run(1000);
  assert.equal(core.tallies.c[C.SENT], 0, 'nothing published while closing for a pause');
  assert.ok(dev(0, D.SKIPPED) >= 1);
  run(1500); // the server never closed: destroyed after the 2 s grace
  assert.ok(work.calls.includes('close 0 destroy'));
  work.settle();
  assert.equal(core.state[0], S.PAUSED);
  assert.equal(core.tallies.c[C.DISCONNECTS], 0, 'a pause is not a disconnect');
  core.setPaused([]);
  assert.deepEqual([...core.state], [S.QUEUED, S.QUEUED]);
  run(5);
  assert.equal(work.count('connect'), 3);
  const ev = core.tallies.take().events.map((e) => `${e.ev} ${e.device ?? ''}`);
  assert.ok(ev.includes('paused sim-2') && ev.includes('paused sim-1') && ev.includes('resumed sim-1'));
});

test('stop: idle rows stop at once, connected rows drain their in-flight messages, then close; stopped once', () => {
  const { clock, core, work, run, stopped } = setup({ reconnect: true, reconnectMinMs: 20_000 });
  core.start([]);
  run(5);
  core.connected(0, clock.t);
  core.closed(1, { cause: 'ECONNREFUSED', class: 'network' }, 'connect-error'); // device 1 in backoff
  run(1000);
  assert.equal(core.inflight.count(0), 1);
  core.stop(10_000);
  assert.equal(core.state[1], S.STOPPED);
  assert.equal(core.state[0], S.UP, 'drains first');
  run(100);
  assert.equal(core.state[0], S.UP);
  core.acked(0, 1, clock.t, null);
  run(5);
  assert.equal(core.state[0], S.CLOSING);
  assert.equal(work.calls.at(-1), 'close 0 graceful');
  const sent = core.tallies.c[C.SENT];
  run(2000);
  assert.equal(core.tallies.c[C.SENT], sent, 'no publish after stop');
  assert.equal(stopped(), 0);
  work.settle();
  run(5);
  assert.deepEqual([...core.state], [S.STOPPED, S.STOPPED]);
  assert.equal(stopped(), 1);
  run(5000);
  assert.equal(stopped(), 1);
  assert.equal(work.count('connect'), 2, 'no reconnect during or after a stop');
  assert.equal(core.tallies.c.length, C_FIELDS);
});

test('stages: rows join as the ramp wants them and leave on a ramp-down without counting a disconnect', () => {
  const stages = [
    { durationSec: 1, target: { share: 1 } },
    { durationSec: 1, target: { share: 0 } },
  ];
  const { clock, core, work, run } = setup({ stages });
  core.start([]);
  assert.deepEqual([...core.state], [S.IDLE, S.IDLE]);
  run(300); // 0.25 s: a quarter of 2 devices rounds to one wanted
  assert.deepEqual(work.calls, ['connect 0']);
  core.connected(0, clock.t);
  run(700);
  assert.equal(work.count('connect'), 2);
  core.connected(1, clock.t);
  run(1000); // ramped down to 0 by 2 s: both leave gracefully
  assert.deepEqual(
    work.calls.filter((c) => c.startsWith('close')),
    ['close 1 graceful', 'close 0 graceful'],
  );
  work.settle();
  assert.deepEqual([...core.state], [S.IDLE, S.IDLE]);
  assert.equal(core.tallies.c[C.DISCONNECTS], 0);
});
