// Collapse detection (docs/design.md#what-is-measured): connected devices below COLLAPSE_SHARE of what should be
// connected, or QoS 1 acks stopped while publishes go out, for longer than COLLAPSE_WINDOW_SEC.
// Recorded once, with the time it began and the cause that grew most since then. Its time and its
// counts (connected, peak) are those of the same moment, the start of the episode: the counts at
// detection (COLLAPSE_WINDOW_SEC later) next to the start time made a banner that never happened.
import type { MetricsSnapshot } from './snapshot.js';

export type Collapse = NonNullable<MetricsSnapshot['collapse']>;

export interface CollapseSample {
  /** ms since epoch */
  at: number;
  elapsedSec: number;
  connected: number;
  peakConnected: number;
  /** devices that should be connected now (stages, pauses) */
  expected: number;
  qos: 0 | 1;
  sentDelta: number;
  ackedDelta: number;
  inFlight: number;
  byCause: Record<string, number>;
}

interface Episode {
  at: number;
  elapsedSec: number;
  causes: Record<string, number>;
  connected: number;
  peakConnected: number;
}

export class CollapseDetector {
  private result: Collapse | null = null;
  private low: Episode | null = null;
  private noAcks: Episode | null = null;
  private prevCauses: Record<string, number> = {};

  /** @param share COLLAPSE_SHARE (0..1) @param windowSec COLLAPSE_WINDOW_SEC */
  constructor(
    private readonly share: number,
    private readonly windowSec: number,
  ) {}

  get collapse(): Collapse | null {
    return this.result;
  }

  update(s: CollapseSample): Collapse | null {
    if (this.result) return this.result;
    const begin = (): Episode => ({
      at: s.at,
      elapsedSec: s.elapsedSec,
      causes: this.prevCauses,
      connected: s.connected,
      peakConnected: s.peakConnected,
    });
    const base = Math.min(s.peakConnected, s.expected);
    if (s.peakConnected > 0 && s.connected < this.share * base) this.low ??= begin();
    else this.low = null;
    if (s.qos === 1 && s.sentDelta > 0 && s.ackedDelta === 0 && s.inFlight > 0) this.noAcks ??= begin();
    else if (s.ackedDelta > 0) this.noAcks = null;

    const windowMs = this.windowSec * 1000;
    const ep =
      this.low && s.at - this.low.at >= windowMs ? this.low : this.noAcks && s.at - this.noAcks.at >= windowMs ? this.noAcks : null;
    if (ep) {
      this.result = {
        at: new Date(ep.at).toISOString(),
        elapsedSec: Math.round(ep.elapsedSec * 10) / 10,
        kind: ep === this.low ? 'connections' : 'acks',
        dominantCause: dominantCause(ep.causes, s.byCause) ?? (ep === this.low ? 'unknown' : 'no PUBACKs (server stalled?)'),
        connectedAtCollapse: ep.connected,
        peakConnected: ep.peakConnected,
      };
    }
    this.prevCauses = { ...s.byCause };
    return this.result;
  }
}

/** The cause whose count grew most from `before` to `after`; null when none grew. */
export function dominantCause(before: Record<string, number>, after: Record<string, number>): string | null {
  let best: string | null = null;
  let most = 0;
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > most) {
      most = d;
      best = k;
    }
  }
  return best;
}
