// The connection-storm model behind `tblab emulator --connect-capacity <n/s>`. ThingsBoard answers a
// CONNECT only after validating its credentials through the transport API: MqttTransportHandler
// .processAuthTokenConnect hands a ValidateBasicMqttCredRequestMsg to TransportService.process, which
// the core answers over a queue. In a storm that round trip is the bottleneck, modelled as one FIFO
// server validating `perSec` CONNECTs per second: a CONNECT waits its turn (CONNACK latency grows
// with the queue), and one whose answer would come later than the transport API request timeout
// (queue.transport_api.max_requests_timeout, TB_QUEUE_TRANSPORT_MAX_REQUEST_TIMEOUT, 10,000 ms) is
// refused when that timeout expires, as the callback's onError does: CONNACK 3 "server unavailable"
// (MQTT 5: 0x88) and the channel closed. A timed-out validation takes no server time here (the core
// may still work on it in ThingsBoard, so a real storm degrades further than this model).
// Virtual time (`busyUntil`) makes admission O(1); it runs on real time, as the sessions' timers do.

/** ThingsBoard's transport API request timeout, ms (queue.transport_api.max_requests_timeout). */
export const TRANSPORT_API_TIMEOUT_MS = 10_000;

export interface ConnectCapacityOptions {
  /** CONNECTs validated per second; 0 = off (every CONNECT is validated at once). */
  perSec: number;
  /** A validation that would complete later than this after its CONNECT times out, ms (default TRANSPORT_API_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** The emulator's `connectCapacity` stats. */
export interface ConnectCapacityStats {
  perSec: number;
  timeoutMs: number;
  /** CONNECTs validated (answered with the credentials' verdict). */
  validated: number;
  /** Validated CONNECTs that queued behind earlier ones. */
  delayed: number;
  /** CONNECTs whose validation timed out: refused with "server unavailable" after `timeoutMs`. */
  timedOut: number;
  /** Longest CONNECT → validation of a validated CONNECT (queue + service time), ms. */
  maxWaitMs: number;
}

export class ConnectCapacity {
  /** False when off: CONNECT takes one branch and nothing else. */
  on = false;
  private perSec = 0;
  private timeout = TRANSPORT_API_TIMEOUT_MS;
  private busyUntil = 0;
  private readonly counts = { validated: 0, delayed: 0, timedOut: 0, maxWaitMs: 0 };

  configure(o: ConnectCapacityOptions): void {
    this.perSec = o.perSec;
    this.timeout = o.timeoutMs || TRANSPORT_API_TIMEOUT_MS;
    this.on = o.perSec > 0;
  }

  get timeoutMs(): number {
    return this.timeout;
  }

  /**
   * A CONNECT arriving at `now` (ms, real time): how long until its credentials are validated (its
   * turn in the queue plus 1/perSec of service), or
   * null when the validation would time out (the caller refuses it `timeoutMs` after arrival).
   */
  admit(now: number): number | null {
    const start = Math.max(now, this.busyUntil);
    const done = start + 1000 / this.perSec;
    const wait = done - now;
    if (wait > this.timeout) {
      this.counts.timedOut++;
      return null;
    }
    this.busyUntil = done;
    this.counts.validated++;
    if (start > now) this.counts.delayed++;
    if (wait > this.counts.maxWaitMs) this.counts.maxWaitMs = Math.round(wait);
    return wait;
  }

  stats(): ConnectCapacityStats {
    return { perSec: this.perSec, timeoutMs: this.timeout, ...this.counts };
  }
}
