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
  /** RPC_TARGETS: the MQTT device rows (default), the gateway children, or both. */
  targets?: 'devices' | 'children' | 'all';
}

/** ThingsBoard's default `server.rest.server_side_rpc.min_timeout` (thingsboard.yml), ms. */
const TB_MIN_TIMEOUT_MS = 5000;
const REQUEST = 'v1/devices/me/rpc/request/';
const RESPONSE = 'v1/devices/me/rpc/response/';
const METHOD = 'tblabRpc';
/** Child id look-ups under way at once (a gateway fleet joins thousands of children at its start). */
const LOOKUPS_IN_FLIGHT = 16;
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
  readonly servesChildren: boolean;
  private readonly toDevices: boolean;
  /** ThingsBoard's device id of each row ('' for a child not looked up yet). */
  private readonly ids: string[];
  /** Children waiting for their id look-up, and the name of each row asked for. */
  private readonly lookups: number[] = [];
  private readonly lookupName = new Map<number, string>();
  private lookingUp = 0;
  private readonly calls = new Map<number, Call>();
  private readonly labTimeoutMs: number;

  constructor(
    private readonly s: RpcSettings,
    deviceIds: readonly string[],
    links: DeviceLinks,
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
    const targets = s.targets ?? 'devices';
    this.servesChildren = targets !== 'devices';
    this.toDevices = targets !== 'children';
    this.ids = [...deviceIds];
  }

  /** A gateway child joined: callable once its device id is known. */
  childJoined(i: number, name: string): void {
    this.subscribed();
    if (this.ids[i] !== '' || this.lookupName.has(i)) return;
    this.lookupName.set(i, name);
    this.lookups.push(i);
  }

  /** Row i may be called now: a device row whose subscription was granted, or a joined child with its id. */
  protected override callable(i: number): boolean {
    if (this.toDevices && this.links.ready(i)) return true;
    return this.servesChildren && this.ids[i] !== '' && this.links.childReady(i);
  }

  protected override everyTick(): void {
    if (this.lookups.length && this.rest.authorized) this.lookUp();
  }

  /** Looks up the ids of joined children by name (ThingsBoard created them on their first connect). */
  private lookUp(): void {
    while (this.lookingUp < LOOKUPS_IN_FLIGHT && this.lookups.length) {
      const i = this.lookups.shift()!;
      const name = this.lookupName.get(i)!;
      this.lookingUp++;
      const done = (id: string | null) => {
        this.lookingUp--;
        this.lookupName.delete(i);
        if (id) {
          this.ids[i] = id;
          this.m.counters.childrenFound++;
        } else this.m.counters.childLookupsFailed++;
      };
      this.rest.get(`/api/tenant/devices?deviceName=${encodeURIComponent(name)}`).then(
        (a) => done(a.status === 200 ? deviceId(a.body) : null),
        () => done(null),
      );
    }
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
    const id = topic.slice(REQUEST.length);
    const body = `{"k":${k},"ok":true}`;
    const answer = () => {
      if (!this.links.rpcReply(i, id, body)) return;
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
    this.rest.post(`${prefix}/${this.s.mode}/${this.ids[i]}`, body).then(
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

/** The `id.id` of a device as ThingsBoard's REST API returns it; null when absent. */
function deviceId(body: string): string | null {
  try {
    const id = (JSON.parse(body) as { id?: { id?: unknown } }).id?.id;
    return typeof id === 'string' && id !== '' ? id : null;
  } catch {
    return null;
  }
}

/** ThingsBoard's answers at an RPC's expiry (AbstractRpcController#reply), by what the device saw. */
export function expiryCause(status: number, received: boolean): string | null {
  if (status === 408) return '408 timeout (delivered, no response)';
  if (status === 409) return '409 no active connection';
  if (status === 504) return received ? '504 timeout (delivered, no response)' : '504 timeout (never delivered)';
  return null;
}
