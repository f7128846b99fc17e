// The `attributes` workload of one shard. As the tenant the lab writes a shared attribute
// (`POST /api/plugins/telemetry/DEVICE/{id}/SHARED_SCOPE {"tblabAttr":k}`, TelemetryController) at
// the shard's share of ATTRIBUTE_RATE; ThingsBoard pushes the change to the device's session
// subscribed to `v1/devices/me/attributes` (DefaultTelemetrySubscriptionService → device actor →
// transport), and the device side of the lab sees `{"tblabAttr":k}` arrive. latencyMs = intended
// write → push received; restMs = intended write → REST answer. A write answered 200 whose push has
// not come within ATTRIBUTE_TIMEOUT_MS is a timeout. Devices also request the attribute
// (`v1/devices/me/attributes/request/{n}` → `…/response/{n}`) at ATTRIBUTE_REQUEST_RATE.
import { CallSchedule, ReadyRing } from './call-schedule.js';
import { DeviceRequests } from './device-requests.js';
import { RestCaller, callErrorCause } from './rest-caller.js';
import { recordMs } from '../metrics/hdr.js';
import type { WorkloadMeter } from '../metrics/workload-meter.js';
import type { DeviceLinks, SessionOverlay } from './overlay.js';
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
const TICK_MS = 10;
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

export class AttributeOverlay implements SessionOverlay {
  readonly name = 'attributes';
  readonly topics: readonly string[];
  private readonly rest: RestCaller;
  private readonly schedule: CallSchedule;
  private readonly ring: ReadyRing;
  private readonly requests: DeviceRequests;
  /** Writes not yet ended (pushed, failed or timed out), and pushed ones whose REST answer is awaited. */
  private readonly writes = new Map<number, Write>();
  private nextKey = 1;
  private calling = true;
  private live = false;
  private sweptAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly s: AttributeSettings,
    private readonly deviceIds: readonly string[],
    links: DeviceLinks,
    private readonly clock: WorkloadClock,
    private readonly m: WorkloadMeter,
  ) {
    this.topics = s.requestRate > 0 ? [UPDATES, `${RESPONSE}+`] : [UPDATES];
    const connections = Math.min(256, Math.ceil(s.rate / 10) + 4);
    this.rest = new RestCaller({ url: s.restUrl, connections, timeoutMs: s.timeoutMs + 10_000 });
    this.schedule = new CallSchedule(s.rate);
    this.ring = new ReadyRing(deviceIds.length, links);
    this.requests = new DeviceRequests(REQUESTS, s.requestRate, s.timeoutMs, links, new ReadyRing(deviceIds.length, links), this.m);
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  setToken(token: string): void {
    this.rest.setToken(token);
  }

  /** The schedules start with the first ready device (not while the fleet is still connecting). */
  subscribed(): void {
    this.live = true;
  }

  down(): void {}

  stopCalls(): void {
    this.calling = false;
    this.requests.stop();
  }

  busy(): boolean {
    return this.m.counters.inFlight > 0 || this.requests.busy();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.requests.stop();
    await this.rest.close();
  }

  message(i: number, topic: string, payload: string, at: number): boolean {
    if (topic.startsWith(RESPONSE)) return this.requests.response(topic.slice(RESPONSE.length), at) || true;
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

  private tick(): void {
    const now = this.clock.now();
    if (this.calling && this.live && this.rest.authorized) {
      this.schedule.run(now, (intendedAt) => {
        const i = this.ring.pick();
        if (i < 0) this.m.counters.skipped++;
        else this.write(i, intendedAt);
      });
    }
    if (this.live) this.requests.tick(now);
    if (now - this.sweptAt >= 100) this.sweep(now);
  }

  private write(i: number, intendedAt: number): void {
    const k = this.nextKey++;
    const w: Write = { i, intendedAt, pushed: false, status: 0 };
    this.writes.set(k, w);
    this.m.firstAt ||= intendedAt;
    this.m.counters.sent++;
    this.m.counters.inFlight++;
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
  private sweep(now: number): void {
    this.sweptAt = now;
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
