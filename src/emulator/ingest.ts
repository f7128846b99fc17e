// The path from an accepted device message to storage, shared by MQTT and the HTTP device API:
// transport rate limits first, then the ingest faults (loss, processing delay), then the store.
import type { Device } from './model.js';
import type { Store } from './store.js';
import type { EmulatorEvents } from './events.js';
import type { Faults } from './faults.js';
import type { TelemetryRow } from './payload.js';
import { TransportLimiter } from './rate-limit.js';
import { Capacity } from './capacity.js';

/** Most dropped `sequence` values remembered per device (the count goes on). */
export const DROPPED_LIST_LIMIT = 10000;

export class Ingest {
  readonly limiter: TransportLimiter;
  /** The --capacity model (capacity.ts): MQTT telemetry passes through it when on. */
  readonly capacity = new Capacity((d, rows, now) => this.telemetry(d, rows, now));

  constructor(
    readonly store: Store,
    private readonly events: EmulatorEvents,
    private readonly faults: Faults,
  ) {
    this.limiter = new TransportLimiter(store.opts.clock);
  }

  /** Data points of a telemetry message (non-null key/values over all rows). */
  static points(rows: TelemetryRow[]): number {
    let n = 0;
    for (const r of rows) for (const k in r.values) if (r.values[k] !== null) n++;
    return n;
  }

  /** Applies the transport rate limits; false = refused (counted and reported). */
  admit(d: Device, rows: TelemetryRow[] | null, now: number, transport: 'mqtt' | 'http'): boolean {
    if (!this.limiter.active) return true;
    const hit = this.limiter.check(d.id, rows ? Ingest.points(rows) : 0, now);
    if (!hit) return true;
    d.state.rateLimited++;
    this.store.totals.rateLimited++;
    this.events.emit('rateLimited', { scope: hit, deviceName: d.name, transport });
    return false;
  }

  /** Stores an accepted telemetry message, subject to the ingestLoss and processingDelayMs faults. */
  telemetry(d: Device, rows: TelemetryRow[], now: number): void {
    const f = this.faults;
    if (f.ingestLoss > 0 && Math.random() < f.ingestLoss) {
      d.state.ingestDropped++;
      for (const r of rows) {
        const seq = r.values.sequence;
        if (typeof seq === 'number' && d.state.droppedSequences.length < DROPPED_LIST_LIMIT) d.state.droppedSequences.push(seq);
      }
      this.store.totals.ingestDropped++;
      d.state.lastActivityTime = now;
      return;
    }
    if (f.processingDelayMs > 0) {
      setTimeout(() => this.store.ingestTelemetry(d, rows, now), f.processingDelayMs);
      return;
    }
    this.store.ingestTelemetry(d, rows, now);
  }
}
