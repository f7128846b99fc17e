// The dashboard's state: the latest published snapshot, whether the run has ended, and the
// listeners (SSE clients) that want to hear about either. Owned by one buildDashboard() instance.
import type { MetricsSnapshot } from '../../metrics/snapshot.js';

/** What the page shows once the run is over (from the report, when there is one). */
export interface FinalInfo {
  outcome: string;
  endReason: string;
  endedAt: string | null;
}

export type HubEvent = { kind: 'snapshot'; snapshot: MetricsSnapshot } | { kind: 'final'; final: FinalInfo };

export class SnapshotHub {
  private snapshot: MetricsSnapshot | null = null;
  private finalInfo: FinalInfo | null = null;
  /** Bumped on every publish, so pushers can tell a fresh snapshot from one already sent. */
  private seq = 0;
  private readonly listeners = new Set<(e: HubEvent) => void>();

  get latest(): MetricsSnapshot | null {
    return this.snapshot;
  }
  get final(): FinalInfo | null {
    return this.finalInfo;
  }
  get version(): number {
    return this.seq;
  }

  publish(snapshot: MetricsSnapshot): void {
    this.snapshot = snapshot;
    this.seq++;
  }

  setFinal(info: FinalInfo, snapshot?: MetricsSnapshot): void {
    if (snapshot) this.publish(snapshot);
    this.finalInfo = info;
    // a final state is pushed at once: the page should not wait a refresh period to learn it
    for (const l of this.listeners) {
      if (this.snapshot) l({ kind: 'snapshot', snapshot: this.snapshot });
      l({ kind: 'final', final: info });
    }
  }

  subscribe(listener: (e: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
