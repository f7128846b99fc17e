// What the REST-driven overlays (`rpc`: ./rpc-overlay.ts, `attributes`: ./attribute-overlay.ts)
// share: the tenant's calls at the shard's share of their rate (open model, CallSchedule) to the
// next ready device (ReadyRing), the device-initiated requests riding the same sessions
// (DeviceRequests), a sweep of what the server never answered, and the stop/busy/close of the
// SessionOverlay seam. A subclass makes one call and reads what the server pushes for it.
import { CallSchedule, ReadyRing } from './call-schedule.js';
import { DeviceRequests, type DeviceRequestKind } from './device-requests.js';
import { RestCaller } from './rest-caller.js';
import type { WorkloadMeter } from '../metrics/workload-meter.js';
import type { DeviceLinks, SessionOverlay } from './overlay.js';
import type { WorkloadClock } from './workload.js';

const TICK_MS = 10;

export interface RestOverlayPlan {
  /** TB_URL. */
  restUrl: string;
  /** The tenant's calls per second (this shard's share). */
  rate: number;
  /** REST connections of the pool. */
  connections: number;
  /** A REST call not answered this long fails, ms. */
  restTimeoutMs: number;
  /** Topic filters of the overlay's own pushes. */
  topics: readonly string[];
  /** The device-initiated requests, answered on `responseTopic` + id. */
  requests: DeviceRequestKind;
  responseTopic: string;
  /** This shard's share of their rate, requests per second. */
  requestRate: number;
  requestTimeoutMs: number;
  /** How often `sweep` looks for calls that will not be answered, ms. */
  sweepEveryMs: number;
}

export abstract class RestOverlay implements SessionOverlay {
  abstract readonly name: string;
  readonly topics: readonly string[];
  protected readonly rest: RestCaller;
  private readonly schedule: CallSchedule;
  private readonly ring: ReadyRing;
  private readonly requests: DeviceRequests;
  private readonly responseTopic: string;
  private readonly sweepEveryMs: number;
  private nextKey = 1;
  private calling = true;
  private live = false;
  private sweptAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    plan: RestOverlayPlan,
    deviceCount: number,
    protected readonly links: DeviceLinks,
    protected readonly clock: WorkloadClock,
    protected readonly m: WorkloadMeter,
  ) {
    this.topics = plan.requestRate > 0 ? [...plan.topics, `${plan.responseTopic}+`] : plan.topics;
    this.rest = new RestCaller({ url: plan.restUrl, connections: plan.connections, timeoutMs: plan.restTimeoutMs });
    this.schedule = new CallSchedule(plan.rate);
    this.ring = new ReadyRing(deviceCount, { ready: (i) => this.callable(i) });
    this.requests = new DeviceRequests(
      plan.requests,
      plan.requestRate,
      plan.requestTimeoutMs,
      links,
      new ReadyRing(deviceCount, links),
      this.m,
    );
    this.responseTopic = plan.responseTopic;
    this.sweepEveryMs = plan.sweepEveryMs;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Starts the call `k` to row `i`, due at `intendedAt` (already counted as sent and in flight). */
  protected abstract call(i: number, k: number, intendedAt: number): void;
  /** The server pushed `topic` (not a response to a device request) to row `i`; true when it is this overlay's. */
  protected abstract push(i: number, topic: string, payload: string, at: number): boolean;
  /** Ends the calls the server will no longer answer. */
  protected abstract sweep(now: number): void;

  /** Row i may be called now (default: its session subscribed the overlay's topics). */
  protected callable(i: number): boolean {
    return this.links.ready(i);
  }

  /** Runs on every tick, after the calls due. */
  protected everyTick(): void {}

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
    if (topic.startsWith(this.responseTopic)) return this.requests.response(topic.slice(this.responseTopic.length), at) || true;
    return this.push(i, topic, payload, at);
  }

  private tick(): void {
    const now = this.clock.now();
    if (this.calling && this.live && this.rest.authorized) {
      this.schedule.run(now, (intendedAt) => {
        const i = this.ring.pick();
        if (i < 0) {
          this.m.counters.skipped++;
          return;
        }
        this.m.firstAt ||= intendedAt;
        this.m.counters.sent++;
        this.m.counters.inFlight++;
        this.call(i, this.nextKey++, intendedAt);
      });
    }
    if (this.live) this.requests.tick(now);
    this.everyTick();
    if (now - this.sweptAt >= this.sweepEveryMs) {
      this.sweptAt = now;
      this.sweep(now);
    }
  }
}
