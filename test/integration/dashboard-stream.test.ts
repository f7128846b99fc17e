import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDashboard, openStream } from '../helpers/dashboard.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';
import type { RunReport } from '../../src/report/schema.js';

test('/api/stream pushes each new snapshot once, keeps quiet streams alive, and pushes the final state at once', async (t) => {
  const { dash, url } = await startDashboard(t, { refreshMs: 150 });
  const s1 = fixtureSnapshot();
  dash.publish(s1);
  const stream = await openStream(url);
  t.after(() => stream.close());

  const first = await stream.next();
  assert.equal(first.event, 'snapshot');
  assert.equal(JSON.parse(first.data).at, s1.at);

  const s2 = { ...s1, at: new Date(Date.parse(s1.at) + 1000).toISOString(), elapsedSec: 43 };
  dash.publish(s2);
  const second = await stream.next();
  assert.equal(second.event, 'snapshot');
  assert.equal(JSON.parse(second.data).elapsedSec, 43);

  // no new publish: no repeated snapshot, only keep-alive comments (which carry no event)
  await assert.rejects(stream.next(600), /no SSE event/);

  dash.setFinal({
    outcome: 'completed',
    endReason: 'duration reached',
    endedAt: s2.at,
    metrics: { ...s2, state: 'finished' },
  } as RunReport);
  const snap = await stream.next();
  assert.equal(snap.event, 'snapshot');
  assert.equal(JSON.parse(snap.data).state, 'finished');
  const fin = await stream.next();
  assert.equal(fin.event, 'final');
  assert.deepEqual(JSON.parse(fin.data), { outcome: 'completed', endReason: 'duration reached', endedAt: s2.at });

  // a client that connects after the end still gets the final state
  const late = await openStream(url);
  t.after(() => late.close());
  assert.equal((await late.next()).event, 'snapshot');
  assert.equal((await late.next()).event, 'final');
  const info = (await (await fetch(`${url}/api/info`)).json()) as { final: unknown; mode: string };
  assert.equal(info.mode, 'live');
  assert.ok(info.final);
});

test('close() ends open streams instead of waiting for them', async (t) => {
  const { dash, url } = await startDashboard(t);
  dash.publish(fixtureSnapshot());
  const stream = await openStream(url);
  t.after(() => stream.close());
  await stream.next();
  const started = Date.now();
  await dash.close();
  assert.ok(Date.now() - started < 5000);
  await assert.rejects(stream.next(5000), /stream ended|terminated|no SSE event/);
});
