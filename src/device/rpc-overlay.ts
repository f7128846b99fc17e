// The `rpc` workload of one shard. The lab is both ends of ThingsBoard's server-side RPC: as the
// tenant it POSTs `/api/rpc/{oneway|twoway}/{deviceId}` (v2) or `/api/plugins/rpc/…` (v1) at the
// shard's share of RPC_RATE, and as each device it answers on `v1/devices/me/rpc/response/{n}` the
// requests ThingsBoard publishes on `v1/devices/me/rpc/request/{n}` (after RPC_RESPONSE_DELAY_MS,
// leaving RPC_FAILURE_SHARE of them unanswered). Calls carry `params.k`, so the REST call, the
// device's receipt and the REST answer meet in this process: receiveMs (intended send → device got
// it), returnMs (device published its response → REST answer) and latencyMs (intended send → REST
// answer) are measured on one clock. ThingsBoard's answers
// (application/…/controller/AbstractRpcController.java `reply`): 200 with the device's response;
// after the expiry 408 (v1, delivered) or 409 (v1, never delivered: no active connection) and 504
// (v2, both). Client-side RPC (device → server, RPC_CLIENT_RATE) runs through ./device-requests.ts:
// MqttTransportHandler hands it to the rule engine, and only a rule chain with an "RPC call reply"
// node answers it (ThingsBoard's default root chain just logs it, so on a stock server it times out).
import { callKey } from './call-schedule.js';
import { encodePublish0 } from './packets-down.js';
import { callErrorCause } from './rest-caller.js';
import { RestOverlay } from './rest-overlay.js';
import { recordMs } from '../metrics/hdr.js';
import type { WorkloadMeter } from '../metrics/workload-meter.js';
import type { DeviceLinks } from './overlay.js';
import type { WorkloadClock } from './workload.js';

export interface RpcSettings {
  /** TB_URL. */
  restUrl: string;
  /** This shard's share of RPC_RATE, calls per second. */
  rate: number;
  mode: 'oneway' | 'twoway';
  /** v2 = `/api/rpc/…` (RpcV2Controller), v1 = `/api/plugins/rpc/…` (RpcV1Controller). */
  api: 'v1' | 'v2';
  /** The call's `timeout` (ThingsBoard raises it to its min_timeout, 5 s by default), ms. */
  timeoutMs: number;
  /** Devices answer this long after a request arrives, ms. */
  responseDelayMs: number;
  /** Share 0..1 of requests the devices leave unanswered (each ends as ThingsBoard's timeout). */
  failureShare: number;
  /** This shard's share of RPC_CLIENT_RATE: device-initiated calls per second. */
  clientRate: number;
}

/** ThingsBoard's default `server.rest.server_side_rpc.min_timeout` (thingsboard.yml), ms. */
const TB_MIN_TIMEOUT_MS = 5000;
const REQUEST = 'v1/devices/me/rpc/request/';
const RESPONSE = 'v1/devices/me/rpc/response/';
const METHOD = 'tblabRpc';
const CLIENT_RPC = {
  requestTopic: REQUEST,
  payload: (k: number) => `{"method":"tblabPing","params":{"k":${k}}}`,
  prefix: 'client',
  hist: 'clientLatencyMs',
  timeoutCause: 'client-side RPC: no response in time',
};

interface Call {
  i: number;
  intendedAt: number;
  received: boolean;
  /** The REST answer came (a one-way call waits here for the device's receipt). */
  restDone: boolean;
  /** When the device published its response (0 = not yet). */
  answeredAt: number;
}

export class RpcOverlay extends RestOverlay {
  readonly name = 'rpc';
  private readonly calls = new Map<number, Call>();
  private readonly labTimeoutMs: number;

  constructor(
    private readonly s: RpcSettings,
    private readonly deviceIds: readonly string[],
    private readonly links: DeviceLinks,
    clock: WorkloadClock,
    m: WorkloadMeter,
  ) {
    super(
      {
        restUrl: s.restUrl,
        rate: s.rate,
        connections: Math.min(512, Math.ceil((s.rate * Math.max(s.timeoutMs, TB_MIN_TIMEOUT_MS)) / 1000) + 4),
        restTimeoutMs: labTimeoutOf(s),
        topics: [`${REQUEST}+`],
        requests: CLIENT_RPC,
        responseTopic: RESPONSE,
        requestRate: s.clientRate,
        requestTimeoutMs: s.timeoutMs,
        sweepEveryMs: 250,
      },
      deviceIds.length,
      links,
      clock,
      m,
    );
    this.labTimeoutMs = labTimeoutOf(s);
  }

  protected push(i: number, topic: string, payload: string, at: number): boolean {
    if (!topic.startsWith(REQUEST)) return false;
    const k = callKey(payload, 'params');
    const call = k === null ? undefined : this.calls.get(k);
    if (!call || call.i !== i) {
      this.m.counters.unknownRequests++;
      return true;
    }
    if (!call.received) {
      call.received = true;
      this.m.counters.received++;
      recordMs(this.m.hist.receiveMs, at - call.intendedAt);
    }
    if (call.restDone) this.calls.delete(k!);
    if (this.s.mode === 'oneway') return true;
    if (this.s.failureShare > 0 && Math.random() < this.s.failureShare) {
      this.m.counters.devicesSilent++;
      return true;
    }
    const reply = encodePublish0(RESPONSE + topic.slice(REQUEST.length), `{"k":${k},"ok":true}`, this.links.version);
    const answer = () => {
      if (!this.links.send(i, reply)) return;
      this.m.counters.devicesAnswered++;
      call.answeredAt = this.clock.now();
    };
    if (this.s.responseDelayMs > 0) setTimeout(answer, this.s.responseDelayMs);
    else answer();
    return true;
  }

  protected call(i: number, k: number, intendedAt: number): void {
    const call: Call = { i, intendedAt, received: false, restDone: false, answeredAt: 0 };
    this.calls.set(k, call);
    const prefix = this.s.api === 'v1' ? '/api/plugins/rpc' : '/api/rpc';
    const body = `{"method":"${METHOD}","params":{"k":${k}},"timeout":${this.s.timeoutMs}}`;
    this.rest.post(`${prefix}/${this.s.mode}/${this.deviceIds[i]}`, body).then(
      (a) => this.settle(k, call, a.status, a.body),
      (e: unknown) => this.settle(k, call, 0, callErrorCause(e, this.labTimeoutMs)),
    );
  }

  /** The REST answer (`status` 0: no answer, `body` is the cause). */
  private settle(k: number, call: Call, status: number, body: string): void {
    const m = this.m;
    m.counters.inFlight--;
    call.restDone = true;
    if (call.received || status !== 200 || this.s.mode === 'twoway') this.calls.delete(k);
    const now = this.clock.now();
    if (status === 200) {
      if (this.s.mode === 'twoway' && callKey(body, 'top') !== k) {
        m.counters.failed++;
        return m.cause('200 with another call’s answer');
      }
      m.counters.answered++;
      if (call.answeredAt > 0) recordMs(m.hist.returnMs, now - call.answeredAt);
      return recordMs(m.hist.latencyMs, now - call.intendedAt);
    }
    const expiry = expiryCause(status, call.received);
    if (expiry) {
      m.counters.timeouts++;
      return m.cause(expiry);
    }
    m.counters.failed++;
    m.cause(status === 0 ? body : `HTTP ${status}`);
  }

  /** One-way calls answered 200 whose request never reached the device within the timeout. */
  protected sweep(now: number): void {
    for (const [k, c] of this.calls) {
      if (!c.restDone || now - c.intendedAt < this.labTimeoutMs) continue;
      this.calls.delete(k);
      this.m.counters.notReceived++;
    }
  }
}

/** The lab's own bound on a call: ThingsBoard's expiry (at least its min_timeout) and 10 s for the answer to come, ms. */
function labTimeoutOf(s: RpcSettings): number {
  return Math.max(s.timeoutMs, TB_MIN_TIMEOUT_MS) + 10_000;
}

/** ThingsBoard's answers at an RPC's expiry (AbstractRpcController#reply), by what the device saw. */
export function expiryCause(status: number, received: boolean): string | null {
  if (status === 408) return '408 timeout (delivered, no response)';
  if (status === 409) return '409 no active connection';
  if (status === 504) return received ? '504 timeout (delivered, no response)' : '504 timeout (never delivered)';
  return null;
}
