// Requests a device makes and the server answers on a topic of its own: client-side RPC
// (`v1/devices/me/rpc/request/{n}` → `…/rpc/response/{n}`) and attribute requests
// (`v1/devices/me/attributes/request/{n}` → `…/attributes/response/{n}`), both routed by
// MqttTransportHandler#processDevicePublish. A request goes to the next ready device at the
// configured rate (open model), waits for the response with the same `n`, and times out after
// `timeoutMs`; each answered one is recorded against its intended send time.
import { CallSchedule, type ReadyRing } from './call-schedule.js';
import { encodePublish0 } from './packets-down.js';
import { recordMs } from '../metrics/hdr.js';
import type { WorkloadMeter } from '../metrics/workload-meter.js';
import type { DeviceLinks } from './overlay.js';

export interface DeviceRequestKind {
  /** Topic of the request without its id, e.g. `v1/devices/me/rpc/request/`. */
  requestTopic: string;
  /** The request's payload for id `k`. */
  payload(k: number): string;
  /** Counter prefix: `<prefix>Sent`, `<prefix>Answered`, `<prefix>Timeouts`, `<prefix>InFlight`, `<prefix>Skipped`. */
  prefix: string;
  /** Histogram of the answered ones (intended send → response). */
  hist: string;
  /** Cause recorded for a timeout. */
  timeoutCause: string;
}

export class DeviceRequests {
  private readonly schedule: CallSchedule;
  private readonly pending = new Map<number, number>();
  private readonly c: { sent: string; answered: string; timeouts: string; inFlight: string; skipped: string };
  private nextKey = 1;
  private calling = true;
  private sweptAt = 0;

  constructor(
    private readonly kind: DeviceRequestKind,
    private readonly rate: number,
    private readonly timeoutMs: number,
    private readonly links: DeviceLinks,
    private readonly ring: ReadyRing,
    private readonly m: WorkloadMeter,
  ) {
    this.schedule = new CallSchedule(rate);
    const p = kind.prefix;
    this.c = { sent: `${p}Sent`, answered: `${p}Answered`, timeouts: `${p}Timeouts`, inFlight: `${p}InFlight`, skipped: `${p}Skipped` };
  }

  stop(): void {
    this.calling = false;
  }

  busy(): boolean {
    return this.pending.size > 0;
  }

  tick(now: number): void {
    if (this.rate <= 0) return;
    if (this.calling) this.schedule.run(now, (intendedAt) => this.call(intendedAt));
    if (now - this.sweptAt < 100) return;
    this.sweptAt = now;
    const n = this.m.counters;
    for (const [k, intendedAt] of this.pending) {
      if (now - intendedAt < this.timeoutMs) continue;
      this.pending.delete(k);
      n[this.c.inFlight]--;
      n[this.c.timeouts]++;
      this.m.cause(this.kind.timeoutCause);
    }
  }

  /** A response with id `id` arrived; true when it answers a pending request (whatever its body). */
  response(id: string, at: number): boolean {
    const k = Number(id);
    const intendedAt = this.pending.get(k);
    if (intendedAt === undefined) return false;
    this.pending.delete(k);
    this.m.counters[this.c.inFlight]--;
    this.m.counters[this.c.answered]++;
    recordMs(this.m.hist[this.kind.hist], at - intendedAt);
    return true;
  }

  private call(intendedAt: number): void {
    const n = this.m.counters;
    const i = this.ring.pick();
    const k = this.nextKey;
    if (i < 0 || !this.links.send(i, encodePublish0(this.kind.requestTopic + k, this.kind.payload(k), this.links.version))) {
      n[this.c.skipped]++;
      return;
    }
    this.nextKey++;
    this.pending.set(k, intendedAt);
    this.m.firstAt ||= intendedAt;
    n[this.c.sent]++;
    n[this.c.inFlight]++;
  }
}
