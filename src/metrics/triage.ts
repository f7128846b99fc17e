// The triage verdict: which ThingsBoard tier fell behind first, from the lab's own series and
// ThingsBoard's statistics about itself. A pure function: each tier has a rule that finds the first
// time its signal crossed; the earliest wins, and every clause of the evidence names its series.
// With too few signals the verdict is `unknown`, never a guess (docs/server-stats.md).

export type Tier = 'transport' | 'rule-engine' | 'storage' | 'rate-limit' | 'host' | 'none' | 'unknown';

/** One point: for a `count` series the amount in the window ending at `t`; for a `gauge`, the value at `t`. */
export interface Point {
  /** Lab clock, ms (window end for counts). */
  t: number;
  v: number;
}

export interface Series {
  /** Stable name the evidence cites, e.g. `queueStats.Main.timeoutMsgs`, `apiUsage.transportMsgCount`. */
  name: string;
  /** Where it was read, e.g. `POST /api/entitiesQuery/find (QUEUE_STATS)`, `/actuator/prometheus`, `lab`. */
  source: string;
  /** Width of each point's window, s (null for gauges). Queue stats keep ThingsBoard's own window. */
  windowSec: number | null;
  kind: 'count' | 'gauge';
  points: Point[];
}

export interface TriageInput {
  lab: {
    /** Messages sent per window (count). */
    sent?: Series;
    /** PUBACK latency p95 per window, ms (gauge). */
    pubackP95Ms?: Series;
    /** Ingest latency (publish → stored) p95 per window, ms (gauge). */
    ingestP95Ms?: Series;
    /** Delivery check totals: acknowledged and stored messages (null = no read-back). */
    delivery?: { acked: number; stored: number } | null;
    /** The delivery check's rate-limit attribution (report.delivery.rateLimit). */
    rateLimit?: { count: number; firstAt: number | null; pattern: string | null } | null;
  };
  /** ThingsBoard's series, by name: apiUsage.transportMsgCount, apiUsage.transportDataPointsCount,
   *  apiUsage.storageDataPointsCount, queueStats.Main.{successfulMsgs,failedMsgs,timeoutMsgs,tmpFailed,tmpTimeout,totalMsgs},
   *  prometheus.tsQueueBacklog, system.cpuUsage, system.memoryUsage. Missing = not visible. */
  server: Series[];
}

export interface Verdict {
  tier: Tier;
  evidence: string[];
  /** When the winning signal first crossed, lab clock ms (null for none/unknown). */
  firstAt: number | null;
}

/** The report's `server` section: every series read, what was not visible and why, the verdict. */
export interface ServerSection {
  series: Series[];
  /** One line per signal that could not be read, saying why. */
  notVisible: string[];
  verdict: Verdict;
}

interface Finding {
  tier: Exclude<Tier, 'none' | 'unknown'>;
  at: number;
  clause: string;
}

/** Share below which a counter is said to lag another. */
const LAG = 0.9;
/** Host saturation, %. */
const HOST_SATURATED = 90;
/** Latency growth that counts as "up": last third over first third, and by at least MIN_RISE_MS (a busy
 *  generator moves a few-millisecond p99 threefold without ThingsBoard falling behind). */
const LATENCY_GROWTH = 3;
const MIN_RISE_MS = 200;

const iso = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const cite = (s: Series, p: Point) =>
  `${s.name} = ${round(p.v)}${s.windowSec ? ` in the ${s.windowSec} s window` : ''} ending ${iso(p.t)} (${s.source})`;
const round = (x: number) => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 10) / 10);

/** Cumulative sum of a count series up to and including time t. */
function cumAt(s: Series, t: number): number {
  let c = 0;
  for (const p of s.points) if (p.t <= t) c += p.v;
  return c;
}

/** When `a` (cumulative) fell behind LAG × `b` (cumulative). Once `b` has been quiet for a window ("settled"),
 *  the last settled point decides with no allowance, and the lag dates from the start of the streak that ends there;
 *  before that, `b` is shifted back one window (ThingsBoard's report phase) and the lag must hold two points in a row. */
function firstLag(a: Series, b: Series): { p: Point; have: number; want: number } | null {
  const windowMs = Math.max(b.windowSec ?? 0, a.windowSec ?? 0) * 1000;
  const lastB = [...b.points].reverse().find((p) => p.v > 0);
  const settleT = lastB ? lastB.t + windowMs : Infinity;
  const pts = a.points;
  const behind = (p: Point, shiftMs: number) => {
    const want = cumAt(b, p.t - shiftMs);
    const have = cumAt(a, p.t);
    return want > 0 && have < LAG * want ? { p, have, want } : null;
  };
  const judge = [...pts].reverse().find((p) => p.t >= settleT);
  if (judge) {
    const end = behind(judge, 0);
    if (!end) return null;
    let i = pts.indexOf(judge);
    while (i > 0 && behind(pts[i - 1], 0)) i--;
    return { p: pts[i], have: end.have, want: end.want };
  }
  let pending: { p: Point; have: number; want: number } | null = null;
  for (let i = 0; i < pts.length; i++) {
    const lag = behind(pts[i], windowMs);
    if (!lag) {
      pending = null;
      continue;
    }
    pending ??= lag;
    if (pending.p !== pts[i] || i === pts.length - 1) return pending;
  }
  return null;
}

/** Rising latency: mean of the last third ≥ LATENCY_GROWTH × mean of the first third. */
function rising(s: Series | undefined): { at: number; early: number; late: number } | null {
  if (!s || s.points.length < 3) return null;
  const k = Math.max(1, Math.floor(s.points.length / 3));
  const mean = (ps: Point[]) => ps.reduce((a, p) => a + p.v, 0) / ps.length;
  const early = mean(s.points.slice(0, k));
  const late = mean(s.points.slice(-k));
  if (late < LATENCY_GROWTH * Math.max(early, 1) || late - early < MIN_RISE_MS) return null;
  const cross = s.points.find((p) => p.v >= LATENCY_GROWTH * Math.max(early, 1));
  return { at: cross?.t ?? s.points.at(-1)!.t, early, late };
}

function firstNonZero(s: Series | undefined): Point | null {
  return s?.points.find((p) => p.v > 0) ?? null;
}

export function triage(input: TriageInput): Verdict {
  const byName = new Map(input.server.map((s) => [s.name, s]));
  const get = (n: string) => byName.get(n);
  const { lab } = input;
  const findings: Finding[] = [];
  const support: string[] = [];

  // rate limits: the lab's own attribution of closes right after unacknowledged publishes
  if (lab.rateLimit && lab.rateLimit.count > 0) {
    const at = lab.rateLimit.firstAt ?? Number.MAX_SAFE_INTEGER;
    findings.push({
      tier: 'rate-limit',
      at,
      clause:
        `delivery.rateLimit: ${lab.rateLimit.count} probable rate-limit events` +
        (lab.rateLimit.firstAt ? ` from ${iso(lab.rateLimit.firstAt)}` : '') +
        (lab.rateLimit.pattern ? ` (${lab.rateLimit.pattern})` : ''),
    });
  }

  // transport: ThingsBoard counted fewer messages than the lab sent
  const transport = get('apiUsage.transportMsgCount');
  const puback = rising(lab.pubackP95Ms);
  if (transport && lab.sent) {
    const lag = firstLag(transport, lab.sent);
    if (lag) {
      findings.push({
        tier: 'transport',
        at: lag.p.t,
        clause:
          `apiUsage.transportMsgCount (${transport.source}) fell behind lab.sent ` +
          `from ${iso(lag.p.t)}: ${lag.have} counted of ${lag.want} sent`,
      });
      if (puback) support.push(`${lab.pubackP95Ms!.name} rose from ${round(puback.early)} ms to ${round(puback.late)} ms`);
    }
  }

  // rule engine: queue timeouts (Main skips failures, so overload shows as timeoutMsgs) or retries
  for (const key of ['timeoutMsgs', 'tmpTimeout']) {
    const s = get(`queueStats.Main.${key}`);
    const p = firstNonZero(s);
    if (s && p) findings.push({ tier: 'rule-engine', at: p.t, clause: cite(s, p) });
  }

  // storage: stored points lag the points the transport accepted, or the write queue backs up or fails
  const tPoints = get('apiUsage.transportDataPointsCount');
  const sPoints = get('apiUsage.storageDataPointsCount');
  let storageLag = false;
  if (tPoints && sPoints) {
    const lag = firstLag(sPoints, tPoints);
    if (lag) {
      storageLag = true;
      findings.push({
        tier: 'storage',
        at: lag.p.t,
        clause:
          `apiUsage.storageDataPointsCount (${sPoints.source}) fell behind apiUsage.transportDataPointsCount ` +
          `from ${iso(lag.p.t)}: ${lag.have} stored of ${lag.want}`,
      });
    }
  }
  for (const name of ['prometheus.tsQueueBacklog', 'prometheus.tsQueueFailed']) {
    const s = get(name);
    const p = firstNonZero(s);
    if (s && p) {
      storageLag = true;
      findings.push({ tier: 'storage', at: p.t, clause: cite(s, p) });
    }
  }
  const ingest = rising(lab.ingestP95Ms);
  if (ingest && !puback && lab.pubackP95Ms) {
    findings.push({
      tier: 'storage',
      at: ingest.at,
      clause:
        `${lab.ingestP95Ms!.name} rose from ${round(ingest.early)} ms to ${round(ingest.late)} ms ` +
        `while ${lab.pubackP95Ms.name} stayed flat`,
    });
  }

  // rule-engine failures: a failed save ends in a failure, so they are storage's when storage lags too
  const failed = get('queueStats.Main.failedMsgs');
  const fp = firstNonZero(failed);
  if (failed && fp) {
    if (storageLag) support.push(`${cite(failed, fp)}: failed saves`);
    else findings.push({ tier: 'rule-engine', at: fp.t, clause: cite(failed, fp) });
  }

  // host: CPU or memory saturated, counted only when something else fell behind
  const hostFindings: Finding[] = [];
  for (const name of ['system.cpuUsage', 'system.memoryUsage']) {
    const s = get(name);
    const p = s?.points.find((x) => x.v >= HOST_SATURATED);
    if (s && p) hostFindings.push({ tier: 'host', at: p.t, clause: cite(s, p) });
  }

  if (lab.delivery && lab.delivery.stored < lab.delivery.acked) {
    support.push(`delivery: ${lab.delivery.stored} of ${lab.delivery.acked} acknowledged messages stored`);
  }

  if (findings.length > 0) {
    findings.sort((a, b) => a.at - b.at);
    const first = findings[0];
    const host = hostFindings.filter((h) => h.at <= first.at);
    const winner = host.length > 0 ? host[0] : first;
    const evidence = [
      ...(host.length > 0 ? host.map((h) => h.clause) : []),
      ...findings.filter((f) => f.tier === winner.tier || host.length > 0).map((f) => f.clause),
      ...support,
      ...findings.filter((f) => f.tier !== winner.tier && host.length === 0).map((f) => `later: ${f.tier}: ${f.clause}`),
    ];
    return { tier: winner.tier, evidence: [...new Set(evidence)], firstAt: winner.at };
  }

  // nothing crossed: "none" only when the signals that would have shown it were visible
  const missing: string[] = [];
  if (!lab.sent) missing.push('lab.sent');
  if (!transport) missing.push('apiUsage.transportMsgCount');
  if (!get('queueStats.Main.timeoutMsgs') && !get('queueStats.Main.totalMsgs')) missing.push('queueStats.Main');
  if (!sPoints && !get('prometheus.tsQueueBacklog')) missing.push('apiUsage.storageDataPointsCount');
  const symptoms = [...support];
  if (puback) symptoms.push(`${lab.pubackP95Ms!.name} rose from ${round(puback.early)} ms to ${round(puback.late)} ms`);
  if (ingest) symptoms.push(`${lab.ingestP95Ms!.name} rose from ${round(ingest.early)} ms to ${round(ingest.late)} ms`);
  if (missing.length > 0 || symptoms.length > 0) {
    return {
      tier: 'unknown',
      evidence: [
        ...symptoms,
        ...(missing.length ? [`not visible: ${missing.join(', ')}`] : []),
        'no visible ThingsBoard series crossed its threshold',
      ],
      firstAt: null,
    };
  }
  const evidence = [`apiUsage.transportMsgCount kept pace with lab.sent (${cumAt(transport!, Infinity)} of ${cumAt(lab.sent!, Infinity)})`];
  const queueTotal = get('queueStats.Main.totalMsgs');
  if (queueTotal)
    evidence.push(`queueStats.Main: no timeoutMsgs or failedMsgs in ${queueTotal.points.length} windows of ${queueTotal.windowSec} s`);
  if (sPoints && tPoints)
    evidence.push(
      'apiUsage.storageDataPointsCount kept pace with apiUsage.transportDataPointsCount ' +
        `(${cumAt(sPoints, Infinity)} of ${cumAt(tPoints, Infinity)})`,
    );
  return { tier: 'none', evidence, firstAt: null };
}
