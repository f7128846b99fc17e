// The `http` workload's parts that need no server: how the DEVICES fleet is split between MQTT and
// HTTP devices (HTTP_DEVICES, spread evenly, the same split in every INSTANCE slice), the keys'
// cross-checks naming the key, which rows are acknowledged whatever MQTT_QOS says, and the cause
// texts of refused requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { assignWorkloads, inEvenShare } from '../../src/lab/workload-fleet.js';
import { rowAcks } from '../../src/engine/workload-rows.js';
import { httpErrorCause, httpStatusCause } from '../../src/device/causes.js';
import { sliceBounds, type FleetDevice } from '../../src/common/fleet.js';
import { judgeOutcome } from '../../src/report/outcome.js';
import type { RunResults } from '../../src/metrics/records.js';
import type { MetricsSnapshot } from '../../src/metrics/snapshot.js';
import type { WorkloadSummary } from '../../src/metrics/workload-stats.js';
import { fixtureSnapshot } from '../helpers/snapshot-fixture.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

const fleet = (n: number): FleetDevice[] =>
  Array.from({ length: n }, (_, k) => ({
    name: `sim-${k + 1}`,
    index: k + 1,
    id: `id-${k + 1}`,
    credentials: { type: 'ACCESS_TOKEN', token: `t${k}` },
  }));
const kinds = (f: FleetDevice[]) => f.map((d) => d.workload ?? 'device').join(',');

test('the DEVICES fleet split: http alone takes all, mixed takes HTTP_DEVICES spread evenly (default half), slices agree', () => {
  assert.equal(kinds(assignWorkloads(fleet(3), ['http'])), 'http,http,http');
  assert.equal(kinds(assignWorkloads(fleet(3), ['device'])), 'device,device,device');
  assert.equal(kinds(assignWorkloads(fleet(6), ['device', 'http'], { http: 2 })), 'device,device,http,device,device,http');
  assert.equal(kinds(assignWorkloads(fleet(5), ['device', 'http'])), 'device,http,device,http,http', 'default: half, rounded up');
  // an overlay rides MQTT devices, so http shares the fleet with them
  assert.equal(kinds(assignWorkloads(fleet(4), ['rpc', 'http'], { http: 1 })), 'device,device,device,http');
  // every contiguous slice (shard or INSTANCE) holds its share, and the slices together are the whole split
  const whole = assignWorkloads(fleet(1000), ['device', 'http'], { http: 300 });
  assert.equal(whole.filter((d) => d.workload === 'http').length, 300);
  const parts = [1, 2, 3].map((i) => {
    const { start, end } = sliceBounds(1000, i, 3);
    return assignWorkloads(fleet(1000).slice(start, end), ['device', 'http'], { http: 300 }, 1000);
  });
  assert.equal(kinds(parts.flat()), kinds(whole));
  for (const p of parts) assert.ok(Math.abs(p.filter((d) => d.workload === 'http').length - 100) <= 1);
  assert.ok(inEvenShare(1000, 300, 1000) && !inEvenShare(1, 300, 1000));
});

test('HTTP keys: HTTP_DEVICES only with http sharing the fleet, fewer than DEVICE_COUNT; HTTP_URL an http(s) URL', () => {
  const cwd = tmpDir(fileScope, 'tblab-http-keys-');
  const load = (flags: Record<string, unknown>) => loadConfig({ cwd, env: {}, envFile: false, flags });
  const ok = load({ WORKLOADS: 'device,http', DEVICE_COUNT: 10, HTTP_DEVICES: 4, HTTP_URL: 'http://tb:8081/' });
  assert.ok(ok.ok);
  assert.deepEqual([ok.config.httpDevices, ok.config.httpUrl, ok.config.httpConnections], [4, 'http://tb:8081', 64]);
  const def = load({ WORKLOADS: 'http' });
  assert.ok(def.ok && def.config.httpDevices === undefined && def.config.httpUrl === undefined);
  for (const [flags, key, re] of [
    [{ HTTP_DEVICES: 3 }, 'HTTP_DEVICES', /only with http in WORKLOADS/],
    [{ WORKLOADS: 'http', HTTP_DEVICES: 3 }, 'HTTP_DEVICES', /unset with http alone/],
    [{ WORKLOADS: 'device,http', DEVICE_COUNT: 10, HTTP_DEVICES: 10 }, 'HTTP_DEVICES', /fewer than DEVICE_COUNT \(10\)/],
    [{ WORKLOADS: 'http', HTTP_DEVICES: 0 }, 'HTTP_DEVICES', /whole number from 1/],
    [{ WORKLOADS: 'http', HTTP_URL: 'mqtt://x' }, 'HTTP_URL', /http\(s\) URL/],
    [{ WORKLOADS: 'http', HTTP_CONNECTIONS: 0 }, 'HTTP_CONNECTIONS', /whole number from 1/],
  ] as const) {
    const r = load(flags);
    assert.ok(!r.ok, JSON.stringify(flags));
    assert.equal(r.problems[0].key, key);
    assert.match(r.problems[0].expected, re);
  }
});

test('HTTP rows are acknowledged at any MQTT_QOS; refusals read as status and reason, lost requests as their cause', () => {
  const devs = [{ workload: 'http' as const }, {}].map((d, k) => ({
    name: `d${k}`,
    index: k + 1,
    credentials: { type: 'ACCESS_TOKEN' as const, token: 't' },
    ...d,
  }));
  assert.deepEqual([...rowAcks(devs, 0)], [1, 0]);
  assert.deepEqual([...rowAcks(devs, 1)], [1, 1]);
  assert.equal(httpStatusCause(429), '429 Too Many Requests');
  assert.equal(httpStatusCause(413), '413 Payload Too Large');
  assert.equal(httpStatusCause(599), '599 unknown status');
  assert.equal(httpStatusCause(429), httpStatusCause(429), 'one string per status');
  const err = (code: string, cause?: string) => Object.assign(new Error('x'), { code, ...(cause ? { cause: { code: cause } } : {}) });
  assert.equal(httpErrorCause(err('ECONNREFUSED')), 'ECONNREFUSED');
  assert.equal(httpErrorCause(err('UND_ERR_SOCKET', 'ECONNRESET')), 'connection lost (ECONNRESET)');
  assert.equal(httpErrorCause(err('UND_ERR_HEADERS_TIMEOUT')), 'response timeout');
  assert.equal(httpErrorCause(new Error('x')), 'request error');
});

test('a run whose HTTP requests were all refused delivered no load: failed, HTTP_REFUSED naming the top answer', () => {
  const judge = (http: Partial<WorkloadSummary>, acked: number) => {
    const base = fixtureSnapshot();
    const final: MetricsSnapshot = {
      ...base,
      connections: { ...base.connections, configured: 10, succeeded: 10, attempts: 10 },
      traffic: { ...base.traffic, acked },
      workloads: { http: { rates: {}, ...http } as WorkloadSummary },
    };
    const shards = [{ id: 0, pid: 1, state: 'done' as const, devices: 10, connected: 0 }];
    const results = {
      ...{ runId: 'r', startedAt: 0, endedAt: 1, outcome: 'completed' as const, endReason: 'duration reached', final, timeline: [] },
      ...{
        devices: {},
        histograms: { ackMs: null, connectMs: null, scheduleLagMs: null },
        notes: [],
        files: { events: [], metrics: [] },
        shards,
      },
    } satisfies RunResults;
    return judgeOutcome(results, final);
  };
  const refused = judge({ sent: 50, acked: 0, failed: 50, byCause: { '401 Unauthorized': 45, '429 Too Many Requests': 5 } }, 0);
  assert.equal(refused.outcome, 'failed');
  assert.deepEqual([refused.problem?.code, refused.problem?.exitCode], ['HTTP_REFUSED', 4]);
  assert.match(refused.problem!.message, /401 Unauthorized \(45 of 50 requests\)/);
  assert.match(refused.problem!.hint, /tblab provision/);
  assert.match(refused.endReason, /every HTTP request refused: 401 Unauthorized$/);
  assert.equal(judge({ sent: 50, acked: 1, failed: 49 }, 1).outcome, 'completed', 'one accepted request is load');
  assert.equal(judge({ sent: 50, acked: 0, failed: 50 }, 30).outcome, 'completed', 'another workload delivered');
});
