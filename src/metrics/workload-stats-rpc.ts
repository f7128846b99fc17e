// What the `rpc` and `attributes` workloads report through the stats channel (./workload-stats.ts):
// their counters in the order the dashboard card shows them, and their histograms (ms, against each
// call's intended time, `latencyMs` first). docs/workloads.md#rpc and #attributes explain them.
import type { WorkloadStatsDef, WorkloadSummary } from './workload-stats.js';
import type { Percentiles } from './snapshot.js';

/** Device-initiated request/response counters (`<prefix>Sent` …), client-side RPC and attribute requests. */
const deviceRequests = (prefix: string, what: string) => ({
  [`${prefix}Sent`]: { doc: `${what} published by the devices` },
  [`${prefix}Answered`]: { doc: `${what} answered on their response topic` },
  [`${prefix}Timeouts`]: { doc: `${what} without a response within the timeout` },
  [`${prefix}InFlight`]: { doc: `${what} awaiting their response`, gauge: true as const },
  [`${prefix}Skipped`]: { doc: `${what} due while no device was ready (not sent)` },
});

export const RPC_STATS: WorkloadStatsDef = {
  prefix: 'rpc',
  title: 'Server-side RPC',
  counters: {
    sent: { doc: 'RPC calls made through REST' },
    answered: { doc: 'calls answered 200 (two-way: with their own device response)' },
    timeouts: { doc: 'calls ThingsBoard ended at their expiry (408, 409, 504; by cause)' },
    failed: { doc: 'calls answered otherwise (HTTP status, socket error, no answer at all)' },
    inFlight: { doc: 'calls awaiting their answer', gauge: true },
    skipped: { doc: 'calls due while no device was ready (not sent)' },
    received: { doc: 'requests that reached their device' },
    notReceived: { doc: 'one-way calls answered 200 whose request never reached the device' },
    devicesAnswered: { doc: 'responses the devices published' },
    devicesSilent: { doc: 'requests the devices left unanswered on purpose (RPC_FAILURE_SHARE)' },
    unknownRequests: { doc: 'requests no call of this lab made' },
    childrenFound: { doc: 'gateway children whose device id the lab looked up to call them (RPC_TARGETS children, all)' },
    childLookupsFailed: { doc: 'gateway children the lab could not find by name (not called)' },
    ...deviceRequests('client', 'client-side RPC calls'),
  },
  histograms: {
    latencyMs: 'intended call time → REST answer (answered calls)',
    receiveMs: 'intended call time → the request reached the device',
    returnMs: "two-way: the device published its response → REST answer (ThingsBoard's way back)",
    clientLatencyMs: 'client-side RPC: intended time → response received',
  },
  chart: ['sent', 'answered', 'timeouts'],
};

export const ATTRIBUTE_STATS: WorkloadStatsDef = {
  prefix: 'attribute_push',
  title: 'Shared attribute pushes',
  counters: {
    sent: { doc: 'shared-attribute writes through REST' },
    answered: { doc: 'writes whose push reached the device' },
    timeouts: { doc: 'writes answered 200 whose push did not arrive in time' },
    failed: { doc: 'writes answered otherwise (by cause)' },
    inFlight: { doc: 'writes awaiting their push', gauge: true },
    skipped: { doc: 'writes due while no device was ready (not sent)' },
    written: { doc: 'writes answered 200' },
    unknownPushes: { doc: 'pushes no write of this lab made' },
    ...deviceRequests('request', 'attribute requests'),
  },
  histograms: {
    latencyMs: 'intended write time → push received by the device',
    restMs: 'intended write time → REST answer',
    requestLatencyMs: 'attribute request: intended time → response received',
  },
  chart: ['sent', 'answered', 'timeouts'],
};

/** `rpc: sent 987 (100/s), answered 987, timeouts 0, failed 0, p99 100.9 ms` for each round-trip workload present. */
export function roundTripLines(workloads: Record<string, WorkloadSummary> | undefined): string[] {
  const out: string[] = [];
  for (const name of ['rpc', 'attributes']) {
    const w = workloads?.[name];
    if (!w) continue;
    const n = (k: string) => (typeof w[k] === 'number' ? w[k] : 0);
    const p99 = (w.latencyMs as Percentiles | undefined)?.p99;
    out.push(
      `${name}: sent ${n('sent')} (${w.rates.sent ?? 0}/s), answered ${n('answered')}, timeouts ${n('timeouts')}, ` +
        `failed ${n('failed')}, in flight ${n('inFlight')}, p99 ${p99 ?? '-'} ms`,
    );
  }
  return out;
}
