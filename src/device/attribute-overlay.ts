// The `attributes` workload of one shard. As the tenant the lab writes a shared attribute
// (`POST /api/plugins/telemetry/DEVICE/{id}/SHARED_SCOPE {"tblabAttr":k}`, TelemetryController) at
// the shard's share of ATTRIBUTE_RATE; ThingsBoard pushes the change to the device's session
// subscribed to `v1/devices/me/attributes` (DefaultTelemetrySubscriptionService → device actor →
// transport), and the device side of the lab sees `{"tblabAttr":k}` arrive. latencyMs = intended
// write → push received; restMs = intended write → REST answer. A write answered 200 whose push has
// not come within ATTRIBUTE_TIMEOUT_MS is a timeout. Devices also request the attribute
// (`v1/devices/me/attributes/request/{n}` → `…/response/{n}`) at ATTRIBUTE_REQUEST_RATE.
import { callErrorCause } from './rest-caller.js';
import { RestOverlay } from './rest-overlay.js';
import { recordMs } from '../metrics/hdr.js';
import type { WorkloadMeter } from '../metrics/workload-meter.js';
import type { DeviceLinks } from './overlay.js';
import type { WorkloadClock } from './workload.js';

export interface AttributeSettings {
  /** TB_URL. */
  restUrl: string;
  /** This shard's share of ATTRIBUTE_RATE, writes per second. */
  rate: number;
  /** This shard's share of ATTRIBUTE_REQUEST_RATE, device attribute requests per second. */
  requestRate: number;
  /** A push (or a request's response) not seen this long after its intended time is a timeout, ms. */
  timeoutMs: number;
}

/** The shared attribute the lab writes (one key per device, overwritten by every write). */
export const ATTRIBUTE_KEY = 'tblabAttr';
const UPDATES = 'v1/devices/me/attributes';
const RESPONSE = 'v1/devices/me/attributes/response/';
const REQUESTS = {
  requestTopic: 'v1/devices/me/attributes/request/',
  payload: () => `{"sharedKeys":"${ATTRIBUTE_KEY}"}`,
  prefix: 'request',
  hist: 'requestLatencyMs',
  timeoutCause: 'attribute request: no response in time',
};

interface Write {
  i: number;
  intendedAt: number;
  /** The push reached the device (the call is answered). */
  pushed: boolean;
  /** 0 while the REST answer is awaited, else its status (-1: no answer). A write ends when pushed, failed or timed out. */
  status: number;
}

export class AttributeOverlay extends RestOverlay {
  readonly name = 'attributes';
  /** Writes not yet ended (pushed, failed or timed out), and pushed ones whose REST answer is awaited. */
  private readonly writes = new Map<number, Write>();

  constructor(
    private readonly s: AttributeSettings,
    private readonly deviceIds: readonly string[],
    links: DeviceLinks,
    clock: WorkloadClock,
    m: WorkloadMeter,
  ) {
    super(
      {
        restUrl: s.restUrl,
        rate: s.rate,
        connections: Math.min(256, Math.ceil(s.rate / 10) + 4),
        restTimeoutMs: s.timeoutMs + 10_000,
        topics: [UPDATES],
        requests: REQUESTS,
        responseTopic: RESPONSE,
        requestRate: s.requestRate,
        requestTimeoutMs: s.timeoutMs,
        sweepEveryMs: 100,
      },
      deviceIds.length,
      links,
      clock,
      m,
    );
  }

  protected push(i: number, topic: string, payload: string, at: number): boolean {
    if (topic !== UPDATES) return false;
    const k = pushedKey(payload);
    const w = k === null ? undefined : this.writes.get(k);
    if (!w || w.i !== i || w.pushed) {
      this.m.counters.unknownPushes++;
      return true;
    }
    w.pushed = true;
    if (w.status === 200) this.writes.delete(k!);
    this.m.counters.inFlight--;
    this.m.counters.answered++;
    recordMs(this.m.hist.latencyMs, at - w.intendedAt);
    return true;
  }

  protected call(i: number, k: number, intendedAt: number): void {
    const w: Write = { i, intendedAt, pushed: false, status: 0 };
    this.writes.set(k, w);
    this.rest.post(`/api/plugins/telemetry/DEVICE/${this.deviceIds[i]}/SHARED_SCOPE`, `{"${ATTRIBUTE_KEY}":${k}}`).then(
      (a) => this.answered(k, w, a.status, `HTTP ${a.status}`),
      (e: unknown) => this.answered(k, w, -1, callErrorCause(e, this.s.timeoutMs + 10_000)),
    );
  }

  private answered(k: number, w: Write, status: number, cause: string): void {
    w.status = status;
    if (status === 200) {
      this.m.counters.written++;
      recordMs(this.m.hist.restMs, this.clock.now() - w.intendedAt);
      if (w.pushed) this.writes.delete(k);
      return;
    }
    this.writes.delete(k);
    if (w.pushed) return; // the push came although the answer was not 200: the call is answered
    this.m.counters.inFlight--;
    this.m.counters.failed++;
    this.m.cause(cause);
  }

  /** Writes answered 200 whose push has not come in time. */
  protected sweep(now: number): void {
    for (const [k, w] of this.writes) {
      if (w.pushed || w.status !== 200 || now - w.intendedAt < this.s.timeoutMs) continue;
      this.writes.delete(k);
      this.m.counters.inFlight--;
      this.m.counters.timeouts++;
      this.m.cause(`written, no push within ${this.s.timeoutMs} ms`);
    }
  }
}

/** `k` of a push `{"tblabAttr":k, …}`; null when the push does not carry it. */
function pushedKey(payload: string): number | null {
  try {
    const v = (JSON.parse(payload) as Record<string, unknown> | null)?.[ATTRIBUTE_KEY];
    return typeof v === 'number' && Number.isInteger(v) ? v : null;
  } catch {
    return null;
  }
}
