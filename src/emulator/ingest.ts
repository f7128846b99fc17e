// The path from an accepted device message to storage, shared by MQTT and the HTTP device API:
// transport rate limits first, then the ingest faults (loss, processing delay), then the store.
import type { Device } from './model.js';
import type { Store } from './store.js';
import type { EmulatorEvents } from './events.js';
import type { Faults } from './faults.js';
import type { TelemetryRow } from './payload.js';
import { TransportLimiter } from './rate-limit.js';

export class Ingest {
  readonly limiter = new TransportLimiter();

  constructor(
    readonly store: Store,
    private readonly events: EmulatorEvents,
    private readonly faults: Faults,
  ) {}

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
