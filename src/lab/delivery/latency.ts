// Ingest latency: a sample of devices followed over ThingsBoard's WebSocket API; each update's
// payload `timestamp` (publish time, lab clock) against the moment the update arrived, recorded
// in an HDR histogram. This is what PUBACK latency cannot show: queue lag until the value is saved.
import type { FleetDevice } from '../../common/fleet.js';
import type { Percentiles } from '../../metrics/snapshot.js';
import { createHistogram, recordMs, summarize, encodeHistogram, type Histogram } from '../../metrics/hdr.js';
import { TelemetrySocket, type TsUpdate } from '../../thingsboard/ws.js';
import { describeError } from '../../common/errors.js';
import { publishedAtMs } from '../../common/published-at.js';

export interface LatencySamplerOptions {
  baseUrl: string;
  token: () => Promise<string>;
  devices: FleetDevice[];
  /** Run start, ms: older values (a previous run's) are not measured. */
  runStart: number;
  onNote: (msg: string) => void;
}

export class IngestLatencySampler {
  readonly histogram: Histogram = createHistogram();
  /** Updates that carried `sequence` but no `timestamp` (a payload template without it). */
  private withoutTimestamp = 0;
  private readonly socket: TelemetrySocket;

  constructor(private readonly o: LatencySamplerOptions) {
    this.socket = new TelemetrySocket({
      baseUrl: o.baseUrl,
      token: o.token,
      subscriptions: o.devices.map((d, k) => ({ cmdId: k + 1, entityId: d.id, keys: ['timestamp', 'sequence'] })),
      onUpdate: (u, at) => this.update(u, at),
      onNote: o.onNote,
    });
  }

  /** Opens the socket; a failure becomes a note (the run goes on without latency). */
  async start(): Promise<void> {
    try {
      await this.socket.open();
    } catch (e) {
      this.o.onNote(`ingest latency not measured: ${describeError(e)}`);
    }
  }

  private update(u: TsUpdate, at: number): void {
    const ts = u.data.timestamp;
    if (!ts) {
      if (u.data.sequence) this.withoutTimestamp++;
      return;
    }
    for (const [, v] of ts) {
      const published = publishedAtMs(v);
      if (Number.isFinite(published) && published >= this.o.runStart) recordMs(this.histogram, at - published);
    }
  }

  get endpoint(): string | null {
    return this.socket.endpoint;
  }

  get updates(): number {
    return this.socket.counts.updates;
  }

  summary(): Percentiles {
    return summarize(this.histogram);
  }

  encoded(): string | null {
    return this.histogram.totalCount ? encodeHistogram(this.histogram) : null;
  }

  stop(): void {
    this.socket.close();
    if (this.withoutTimestamp > 0)
      this.o.onNote(
        `${this.withoutTimestamp} WebSocket updates had no \`timestamp\` key: ingest latency needs the payload's publish time (keep a {{timestamp}} field in PAYLOAD_TEMPLATE)`,
      );
  }
}
