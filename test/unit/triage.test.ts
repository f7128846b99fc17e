// The triage verdict on hand-made series: one case per tier, "none" when everything kept pace and
// the signals were visible, "unknown" when they were not, and the earliest tier winning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { triage, type Series, type TriageInput } from '../../src/metrics/triage.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
/** A count series of 5 s windows from `values`. */
function counts(name: string, values: number[], source = 'test', windowSec = 5): Series {
  return { name, source, windowSec, kind: 'count', points: values.map((v, i) => ({ t: T0 + (i + 1) * windowSec * 1000, v })) };
}
function gauge(name: string, values: number[]): Series {
  return { name, source: 'lab', windowSec: null, kind: 'gauge', points: values.map((v, i) => ({ t: T0 + (i + 1) * 5000, v })) };
}
const steady = (n = 6, v = 500) => Array.from({ length: n }, () => v);

/** A healthy run: lab sends 100/s, ThingsBoard counts all, stores all, no timeouts. */
function healthy(): TriageInput {
  return {
    lab: {
      sent: counts('lab.sent', steady()),
      pubackP95Ms: gauge('lab.pubackP95Ms', steady(6, 8)),
      delivery: { acked: 3000, stored: 3000 },
    },
    server: [
      counts('apiUsage.transportMsgCount', steady()),
      counts('apiUsage.transportDataPointsCount', steady(6, 1000)),
      counts('apiUsage.storageDataPointsCount', steady(6, 1000)),
      counts('queueStats.Main.totalMsgs', steady()),
      counts('queueStats.Main.successfulMsgs', steady()),
      counts('queueStats.Main.timeoutMsgs', [0, 0, 0, 0, 0, 0]),
      counts('queueStats.Main.failedMsgs', [0, 0, 0, 0, 0, 0]),
    ],
  };
}
function replace(i: TriageInput, ...s: Series[]): TriageInput {
  const names = new Set(s.map((x) => x.name));
  return { ...i, server: [...i.server.filter((x) => !names.has(x.name)), ...s] };
}

test('none: every visible tier kept pace', () => {
  const v = triage(healthy());
  assert.equal(v.tier, 'none');
  assert.ok(v.evidence.some((e) => e.includes('apiUsage.transportMsgCount kept pace with lab.sent (3000 of 3000)')));
  assert.ok(v.evidence.some((e) => e.includes('queueStats.Main: no timeoutMsgs')));
});

test('rule-engine: queue timeouts, citing the window', () => {
  const v = triage(replace(healthy(), counts('queueStats.Main.timeoutMsgs', [0, 0, 40, 200, 300, 300], 'POST /api/entitiesQuery/find')));
  assert.equal(v.tier, 'rule-engine');
  assert.match(v.evidence[0], /queueStats\.Main\.timeoutMsgs = 40 in the 5 s window ending 12:00:15/);
  assert.equal(v.firstAt, T0 + 15000);
});

test('storage: stored points lag the transport; the failed saves are storage evidence, not a rule-engine verdict', () => {
  // a fifth of the points never stored (ThingsBoard issue #6492's shape); the last window comes after the traffic
  const t = counts('apiUsage.transportDataPointsCount', [1000, 1000, 1000, 1000, 1000, 0]);
  const v = triage(
    replace(
      healthy(),
      t,
      counts('apiUsage.storageDataPointsCount', [1000, 800, 800, 800, 800, 0]),
      counts('queueStats.Main.failedMsgs', [0, 100, 100, 100, 100, 0]),
    ),
  );
  assert.equal(v.tier, 'storage');
  assert.match(
    v.evidence[0],
    /^apiUsage\.storageDataPointsCount \(test\) fell behind apiUsage\.transportDataPointsCount from 12:00:15: 4200 stored of 5000/,
  );
  assert.ok(v.evidence.some((e) => e.includes('queueStats.Main.failedMsgs') && e.includes('failed saves')));
});

test('storage from the lab alone: ingest latency grows while PUBACKs stay fast', () => {
  const i = healthy();
  i.lab.ingestP95Ms = gauge('lab.ingestP95Ms', [50, 60, 200, 900, 1500, 2400]);
  const v = triage(i);
  assert.equal(v.tier, 'storage');
  assert.match(v.evidence[0], /lab\.ingestP95Ms rose .* while lab\.pubackP95Ms stayed flat/);
});

test('transport: ThingsBoard counted fewer messages than the lab sent; PUBACK latency as support', () => {
  const i = replace(healthy(), counts('apiUsage.transportMsgCount', [500, 500, 200, 100, 100, 100]));
  i.lab.pubackP95Ms = gauge('lab.pubackP95Ms', [8, 9, 400, 900, 1200, 1500]);
  const v = triage(i);
  assert.equal(v.tier, 'transport');
  assert.match(v.evidence[0], /apiUsage\.transportMsgCount \(test\) fell behind lab\.sent from 12:00:20: 1300 counted of 1500 sent/);
  assert.ok(v.evidence.some((e) => e.startsWith('lab.pubackP95Ms rose')));
});

test('rate-limit: the attribution, with its pattern, wins over the transport deficit it causes', () => {
  const i = replace(healthy(), counts('apiUsage.transportMsgCount', [500, 300, 100, 100, 100, 100]));
  i.lab.rateLimit = { count: 12, firstAt: T0 + 4000, pattern: 'per device: cut off after ~20 messages (20:1 limit)' };
  const v = triage(i);
  assert.equal(v.tier, 'rate-limit');
  assert.match(v.evidence[0], /delivery\.rateLimit: 12 probable rate-limit events .*20:1 limit/);
  assert.ok(v.evidence.some((e) => e.startsWith('later: transport')));
});

test('host: CPU saturated at or before the first lagging tier', () => {
  const i = replace(
    healthy(),
    counts('queueStats.Main.timeoutMsgs', [0, 0, 0, 50, 90, 90]),
    gauge('system.cpuUsage', [40, 70, 95, 99, 99, 99]),
  );
  const v = triage(i);
  assert.equal(v.tier, 'host');
  assert.match(v.evidence[0], /system\.cpuUsage = 95/);
  assert.ok(v.evidence.some((e) => e.includes('timeoutMsgs')));
  // a busy host with nothing behind is not a verdict
  assert.equal(triage(replace(healthy(), gauge('system.cpuUsage', steady(6, 99)))).tier, 'none');
});

test('the earliest tier wins; storage that catches up after the traffic is no storage lag', () => {
  const i = replace(
    healthy(),
    counts('queueStats.Main.timeoutMsgs', [0, 0, 0, 0, 10, 10]),
    counts('apiUsage.storageDataPointsCount', [1000, 500, 500, 500, 500, 500]),
  );
  assert.equal(triage(i).tier, 'storage');
  // processing delay: storage trails during the traffic and catches up once it stops; the timeouts decide
  const tp = counts('apiUsage.transportDataPointsCount', [1000, 1000, 1000, 1000, 0, 0]);
  const late = replace(
    healthy(),
    tp,
    counts('apiUsage.storageDataPointsCount', [500, 1000, 1000, 1000, 500, 0]),
    counts('queueStats.Main.timeoutMsgs', [0, 0, 5, 9, 0, 0]),
  );
  const v = triage(late);
  assert.equal(v.tier, 'rule-engine');
  assert.ok(!v.evidence.some((e) => e.includes('storage')));
});

test('unknown: missing signals, said so; a lab symptom without server series stays unknown', () => {
  const none = triage({ lab: { sent: counts('lab.sent', steady()) }, server: [] });
  assert.equal(none.tier, 'unknown');
  assert.ok(none.evidence.some((e) => e === 'not visible: apiUsage.transportMsgCount, queueStats.Main, apiUsage.storageDataPointsCount'));
  const symptom = triage({
    lab: { sent: counts('lab.sent', steady()), pubackP95Ms: gauge('lab.pubackP95Ms', [5, 5, 50, 500, 900, 900]) },
    server: [],
  });
  assert.equal(symptom.tier, 'unknown');
  assert.match(symptom.evidence[0], /lab\.pubackP95Ms rose/);
  // an ingest-latency rise alone, without PUBACK latency to compare, does not name storage
  const noPuback = triage({
    lab: { sent: counts('lab.sent', steady()), ingestP95Ms: gauge('lab.ingestP95Ms', [5, 5, 50, 500, 900, 900]) },
    server: [],
  });
  assert.equal(noPuback.tier, 'unknown');
});

test('a few milliseconds of PUBACK jitter on a busy generator is no symptom', () => {
  const i = healthy();
  i.lab.pubackP95Ms = gauge('lab.ackP99Ms', [15, 20, 18, 40, 55, 54]);
  assert.equal(triage(i).tier, 'none');
});

test('a one-window report lag is not a deficit', () => {
  // ThingsBoard reports each window late: its counts trail the lab by one window
  const v = triage(replace(healthy(), counts('apiUsage.transportMsgCount', [0, 500, 500, 500, 500, 1000])));
  assert.equal(v.tier, 'none');
});
