// The default telemetry payload (the original lab's fields): the publish hot path. Readings are random
// walks kept per device in typed arrays and written as bytes straight into the packet buffer (no string,
// no per-message object). A module of its own so the hot path reads in one place, apart from templates;
// the small random helpers live here too, so the hot path calls only module-local code (templates reuse them).
import { bytes, putBytes, putFixed2, putSmall, putUint } from './payload-bytes.js';
import type { PayloadDevice, PayloadSource } from './payload.js';

export const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);
export const r2 = (x: number) => Math.round(x * 100) / 100;
export const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
export const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
export const step = (size: number) => (Math.random() * 2 - 1) * size;

const K = {
  ts: bytes('{"timestamp":"'),
  device: bytes('","device":'),
  seq: bytes(',"sequence":'),
  temp: bytes(',"temperature":'),
  hum: bytes(',"humidity":'),
  batt: bytes(',"battery":'),
  cpu: bytes(',"cpu_usage_percent":'),
  mem: bytes(',"memory_usage_mb":'),
  lat: bytes(',"network_latency_ms":'),
  status: bytes(',"status":'),
  issue: bytes(',"issue":'),
  end: bytes('}'),
};
// Always a string: ThingsBoard stores no key whose value is null (parseProtoValues in
// common/transport/transport-api/.../adaptor/JsonConverter.java skips JSON nulls), so "no issue"
// is the value `none` and the key exists on every point.
const ISSUE_NAMES = ['none', 'low-battery', 'overheating', 'high-cpu', 'network-latency'] as const;
const ISSUES = ISSUE_NAMES.map((s) => bytes(`"${s}"`));
const STATUS_NAMES = ['ok', 'warn', 'critical'] as const;
const STATUSES = STATUS_NAMES.map((s) => bytes(`"${s}"`));
/** Longest ISO-8601 time `toISOString` prints (extended years: `+275760-09-13T00:00:00.000Z`). */
const ISO_MAX = 27;
/**
 * Longest rendering of the fixed parts and of every value: ISO time, sequence (≤ 16 digits),
 * six readings (≤ 8 characters each), the longest status and issue.
 */
const FIXED_MAX =
  Object.values(K).reduce((a, b) => a + b.length, 0) +
  ISO_MAX +
  16 +
  6 * 8 +
  Math.max(...STATUSES.map((b) => b.length)) +
  Math.max(...ISSUES.map((b) => b.length));

/** The default payload's keys in order (for docs, checks and templates that extend it). */
export const TELEMETRY_KEYS = [
  'timestamp',
  'device',
  'sequence',
  'temperature',
  'humidity',
  'battery',
  'cpu_usage_percent',
  'memory_usage_mb',
  'network_latency_ms',
  'status',
  'issue',
] as const;
export { ISSUE_NAMES, STATUS_NAMES };

/** Battery volts: a Li-ion cell from full (4.2 V) to empty (3.3 V); below LOW it reports `low-battery`. */
const BATT_FULL = 4.2,
  BATT_EMPTY = 3.3,
  BATT_LOW = 3.4,
  BATT_WARN = 3.5;
const DAY_MS = 86_400_000;

/** Readings per device, interleaved in one array (one cache line per device, not six). */
const TEMP = 0,
  HUM = 1,
  BATT = 2,
  CPU = 3,
  MEM = 4,
  LAT = 5,
  READINGS = 6;

/**
 * The original lab's telemetry: ISO-8601 UTC `timestamp` with milliseconds, device, sequence and
 * random-walk readings in the original's units (°C, integer % humidity, battery volts, CPU %, MB,
 * ms), `status` ok/warn/critical and a kebab-case `issue` (`none` when there is none).
 */
export class TelemetryPayload implements PayloadSource {
  readonly ascii: boolean;
  readonly maxBytes: number;
  /** JSON-quoted device names, UTF-8, back to back; device i is names[nameAt[i] .. nameAt[i + 1]). */
  private readonly names: Uint8Array;
  private readonly nameAt: Int32Array;
  private readonly walk: Float64Array;
  /** `{"timestamp":"<iso>","device":` for the last timestamp written (many messages share one ms). */
  private readonly head = Buffer.alloc(K.ts.length + ISO_MAX + K.device.length);
  private headLen = 0;
  private headTs = NaN;
  /** `YYYY-MM-DDT` of the day `dayOf`: the date part changes once a day, the time is written as digits. */
  private day = Buffer.alloc(0);
  private dayOf = NaN;
  private scratch: Buffer | null = null;

  constructor(devices: readonly PayloadDevice[]) {
    const n = devices.length;
    const quoted = devices.map((d) => Buffer.from(JSON.stringify(d.name), 'utf8'));
    this.nameAt = new Int32Array(n + 1);
    let longest = 0;
    for (let i = 0; i < n; i++) {
      this.nameAt[i + 1] = this.nameAt[i] + quoted[i].length;
      if (quoted[i].length > longest) longest = quoted[i].length;
    }
    this.names = new Uint8Array(this.nameAt[n]);
    quoted.forEach((q, i) => this.names.set(q, this.nameAt[i]));
    this.ascii = devices.every((d) => isAscii(d.name));
    this.maxBytes = FIXED_MAX + longest;
    this.walk = new Float64Array(n * READINGS);
    for (let i = 0; i < n; i++) {
      const w = i * READINGS;
      this.walk[w + TEMP] = between(18, 30);
      this.walk[w + HUM] = between(30, 70);
      this.walk[w + BATT] = between(3.7, BATT_FULL);
      this.walk[w + CPU] = between(5, 60);
      this.walk[w + MEM] = between(128, 512);
      this.walk[w + LAT] = between(5, 50);
    }
  }

  /** Rebuilds the cached head for wall time `now` (ms): date part once a day, then hh:mm:ss.mmm as digits. */
  private setHead(now: number): void {
    this.headTs = now;
    const d = Math.floor(now / DAY_MS);
    if (d !== this.dayOf) {
      const iso = new Date(d * DAY_MS).toISOString();
      this.day = Buffer.from(iso.slice(0, iso.indexOf('T') + 1), 'latin1');
      this.dayOf = d;
    }
    const h = this.head;
    let t = now - d * DAY_MS;
    let off = putBytes(h, putBytes(h, 0, K.ts), this.day);
    const hh = Math.floor(t / 3_600_000);
    t -= hh * 3_600_000;
    const mm = Math.floor(t / 60_000);
    t -= mm * 60_000;
    const ss = Math.floor(t / 1000);
    off = putSmall(h, off, hh, 2);
    h[off++] = 58; // ':'
    off = putSmall(h, off, mm, 2);
    h[off++] = 58;
    off = putSmall(h, off, ss, 2);
    h[off++] = 46; // '.'
    off = putSmall(h, off, t - ss * 1000, 3);
    h[off++] = 90; // 'Z'
    this.headLen = putBytes(h, off, K.device);
  }

  writeTo(buf: Buffer, off: number, i: number, seq: number, now: number): number {
    const v = this.walk;
    const w = i * READINGS;
    const temp = (v[w + TEMP] = clamp(v[w + TEMP] + step(0.3), 5, 45));
    const hum = (v[w + HUM] = clamp(v[w + HUM] + step(1), 10, 95));
    let batt = v[w + BATT] - Math.random() * 0.0002;
    if (batt < BATT_EMPTY) batt = BATT_FULL; // recharged
    v[w + BATT] = batt;
    const cpu = (v[w + CPU] = clamp(v[w + CPU] + step(3), 0, 100));
    const mem = (v[w + MEM] = clamp(v[w + MEM] + step(4), 64, 1024));
    // mostly a small walk, now and then a network spike
    const prev = v[w + LAT];
    const lat = (v[w + LAT] = clamp((prev > 100 ? prev * 0.8 : prev) + step(2) + (Math.random() < 0.01 ? 150 : 0), 1, 500));
    const issue = batt < BATT_LOW ? 1 : temp > 40 ? 2 : cpu > 90 ? 3 : lat > 200 ? 4 : 0;
    const status = batt < BATT_LOW || temp > 40 ? 2 : issue !== 0 || batt < BATT_WARN || temp > 35 ? 1 : 0;
    if (now !== this.headTs) this.setHead(now);
    off = putBytes(buf, off, this.head, 0, this.headLen);
    off = putBytes(buf, off, this.names, this.nameAt[i], this.nameAt[i + 1]);
    off = putUint(buf, putBytes(buf, off, K.seq), seq);
    off = putFixed2(buf, putBytes(buf, off, K.temp), temp);
    off = putSmall(buf, putBytes(buf, off, K.hum), Math.round(hum), 1);
    off = putFixed2(buf, putBytes(buf, off, K.batt), batt);
    off = putFixed2(buf, putBytes(buf, off, K.cpu), cpu);
    off = putFixed2(buf, putBytes(buf, off, K.mem), mem);
    off = putFixed2(buf, putBytes(buf, off, K.lat), lat);
    off = putBytes(buf, putBytes(buf, off, K.status), STATUSES[status]);
    off = putBytes(buf, putBytes(buf, off, K.issue), ISSUES[issue]);
    return putBytes(buf, off, K.end);
  }

  next(i: number, seq: number, now: number): string {
    const b = (this.scratch ??= Buffer.allocUnsafe(this.maxBytes));
    return b.toString('utf8', 0, this.writeTo(b, 0, i, seq, now));
  }
}
