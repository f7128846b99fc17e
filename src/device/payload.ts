// Telemetry payloads: the original lab's fields with plausible random walks kept per device in
// typed arrays, or a user template (PAYLOAD_TEMPLATE). The original telemetry is written as bytes
// straight into the packet buffer (no string, no per-message object); templates build a string.
import { readFileSync } from 'node:fs';
import { LabError } from '../shared/errors.js';
import { bytes, putBytes, putFixed2, putSmall, putUint } from './payload-bytes.js';

export { putFixed2, putUint };

/** Builds the payload of message `seq` (1-based) of local device `i` at wall time `now` (ms). */
export interface PayloadSource {
  /** True when every payload is 7-bit ASCII (lets the encoder skip a UTF-8 length scan). */
  readonly ascii: boolean;
  next(i: number, seq: number, now: number): string;
  /**
   * Writes the same payload `next` would return, as UTF-8, into `buf` from `off`; returns the end
   * offset. `buf` must have `maxBytes` free from `off`. Absent when the source only builds strings.
   */
  writeTo?(buf: Buffer, off: number, i: number, seq: number, now: number): number;
  /** Upper bound of the bytes `writeTo` writes (with `writeTo`). */
  readonly maxBytes?: number;
}

export interface PayloadDevice {
  name: string;
  /** 1-based fleet index. */
  index: number;
}

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);
const r2 = (x: number) => Math.round(x * 100) / 100;
const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const step = (size: number) => (Math.random() * 2 - 1) * size;

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
const FIXED_MAX = Object.values(K).reduce((a, b) => a + b.length, 0) + ISO_MAX + 16 + 6 * 8
  + Math.max(...STATUSES.map((b) => b.length)) + Math.max(...ISSUES.map((b) => b.length));

/** The default payload's keys in order (for docs, checks and templates that extend it). */
export const TELEMETRY_KEYS = ['timestamp', 'device', 'sequence', 'temperature', 'humidity', 'battery', 'cpu_usage_percent',
  'memory_usage_mb', 'network_latency_ms', 'status', 'issue'] as const;
export { ISSUE_NAMES, STATUS_NAMES };

/** Battery volts: a Li-ion cell from full (4.2 V) to empty (3.3 V); below LOW it reports `low-battery`. */
const BATT_FULL = 4.2, BATT_EMPTY = 3.3, BATT_LOW = 3.4, BATT_WARN = 3.5;
const DAY_MS = 86_400_000;

/** Readings per device, interleaved in one array (one cache line per device, not six). */
const TEMP = 0, HUM = 1, BATT = 2, CPU = 3, MEM = 4, LAT = 5, READINGS = 6;

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

type Part = string | ((i: number, seq: number, now: number) => string);

const PLACEHOLDER = /^\{\{\s*([a-zA-Z]+)(?::([^}]*))?\s*\}\}$/;
const INLINE = /\{\{\s*[a-zA-Z]+(?::[^}]*)?\s*\}\}/g;

/**
 * A user template: any JSON document whose string values may hold placeholders —
 * `{{timestamp}}` (ms), `{{timestamp:iso}}` (ISO-8601 UTC), `{{device}}`, `{{sequence}}`, `{{index}}`, `{{random:MIN:MAX}}` (2 decimals),
 * `{{int:MIN:MAX}}`, `{{walk:MIN:MAX}}` (per-device random walk), `{{choice:a|b|c}}`.
 * A string that is exactly one numeric placeholder becomes a JSON number.
 */
export class TemplatePayload implements PayloadSource {
  readonly ascii: boolean;
  private readonly parts: Part[];

  constructor(template: unknown, devices: readonly PayloadDevice[], source = 'PAYLOAD_TEMPLATE') {
    const n = devices.length;
    const fns: Array<(i: number, seq: number, now: number) => string> = [];
    let ascii = devices.every((d) => isAscii(d.name));
    const compile = (kind: string, arg: string | undefined, quoted: boolean): number => {
      const nums = () => {
        const [a, b] = (arg ?? '').split(':').map(Number);
        if (!Number.isFinite(a) || !Number.isFinite(b) || a > b) throw bad(`{{${kind}:MIN:MAX}} needs two numbers MIN <= MAX`);
        return [a, b] as const;
      };
      let f: (i: number, seq: number, now: number) => string;
      switch (kind) {
        case 'timestamp': {
          if (arg === undefined) f = (_i, _s, now) => String(now);
          else if (arg === 'iso' && quoted) f = (_i, _s, now) => `"${new Date(now).toISOString()}"`;
          else if (arg === 'iso') f = (_i, _s, now) => new Date(now).toISOString();
          else throw bad(`{{timestamp:${arg}}}: the only format is {{timestamp:iso}} (ISO-8601 UTC with milliseconds)`);
          break;
        }
        case 'sequence': f = (_i, seq) => String(seq); break;
        case 'index': { const idx = devices.map((d) => String(d.index)); f = (i) => idx[i]; break; }
        case 'device': { const names = devices.map((d) => (quoted ? JSON.stringify(d.name) : JSON.stringify(d.name).slice(1, -1))); f = (i) => names[i]; break; }
        case 'random': { const [a, b] = nums(); f = () => String(r2(between(a, b))); break; }
        case 'int': { const [a, b] = nums(); f = () => String(Math.floor(between(a, b + 1))); break; }
        case 'walk': {
          const [a, b] = nums();
          const w = Float64Array.from({ length: n }, () => between(a, b));
          const size = (b - a) / 50;
          f = (i) => String(r2((w[i] = clamp(w[i] + step(size), a, b))));
          break;
        }
        case 'choice': {
          const opts = (arg ?? '').split('|').map((s) => (quoted ? JSON.stringify(s) : JSON.stringify(s).slice(1, -1)));
          if (opts.length < 1 || arg === undefined) throw bad('{{choice:a|b|c}} needs at least one option');
          if (!opts.every(isAscii)) ascii = false;
          f = () => opts[Math.floor(Math.random() * opts.length)];
          break;
        }
        default: throw bad(`unknown placeholder {{${kind}}}`);
      }
      fns.push(f);
      return fns.length - 1;
    };
    const bad = (why: string) => new LabError('CONFIG_INVALID', { message: `${source}: ${why}`, hint: 'See docs/running.md, Payload, for the placeholders.' });

    // Serialize with markers, then split on them: the JSON text itself stays exactly the user's.
    const mark = (k: number) => `\uE000${k}\uE000`;
    const text = JSON.stringify(template, (_key, v: unknown) => {
      if (typeof v !== 'string') return v;
      const whole = PLACEHOLDER.exec(v);
      // a whole-value placeholder replaces the JSON value: numbers bare, text kinds JSON-quoted
      const text = whole && (whole[1] === 'device' || whole[1] === 'choice' || (whole[1] === 'timestamp' && whole[2] === 'iso'));
      if (whole) return mark(compile(whole[1], whole[2], Boolean(text)));
      return v.replace(INLINE, (m) => {
        const p = PLACEHOLDER.exec(m)!;
        return mark(compile(p[1], p[2], false));
      });
    });
    if (!isAscii(text.replace(/\uE000\d+\uE000/g, ''))) ascii = false;
    this.parts = [];
    // a whole-value numeric placeholder is `"\uE000k\uE000"` in the text: drop its quotes
    const re = /"\uE000(\d+)\uE000"|\uE000(\d+)\uE000/g;
    let last = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      this.parts.push(text.slice(last, m.index));
      this.parts.push(fns[Number(m[1] ?? m[2])]);
      last = m.index + m[0].length;
    }
    this.parts.push(text.slice(last));
    this.ascii = ascii;
  }

  next(i: number, seq: number, now: number): string {
    let s = '';
    for (const p of this.parts) s += typeof p === 'string' ? p : p(i, seq, now);
    return s;
  }
}

/**
 * The default telemetry followed by a template's own fields (a template object with
 * `"$extends": "default"`). Not the hot path of the default payload: templates build strings.
 */
export class ExtendedPayload implements PayloadSource {
  readonly ascii: boolean;
  constructor(private readonly base: TelemetryPayload, private readonly extra: TemplatePayload) {
    this.ascii = base.ascii && extra.ascii;
  }

  next(i: number, seq: number, now: number): string {
    return `${this.base.next(i, seq, now).slice(0, -1)},${this.extra.next(i, seq, now).slice(1)}`;
  }
}

/** A template object with `"$extends": "default"` adds its fields to the default telemetry. */
function fromTemplate(template: unknown, devices: readonly PayloadDevice[], source: string): PayloadSource {
  if (typeof template !== 'object' || template === null || Array.isArray(template) || !('$extends' in template)) {
    return new TemplatePayload(template, devices, source);
  }
  const { $extends: base, ...fields } = template as Record<string, unknown>;
  const bad = (message: string) =>
    new LabError('CONFIG_INVALID', { message: `${source}: ${message}`, hint: 'See docs/original-habits.md, Payload.' });
  if (base !== 'default') throw bad(`"$extends" must be "default" (the built-in telemetry), not ${JSON.stringify(base)}`);
  const clash = Object.keys(fields).filter((k) => (TELEMETRY_KEYS as readonly string[]).includes(k));
  const names = clash.map((k) => `"${k}"`).join(', ');
  if (clash.length) throw bad(`${names} already in the default payload; drop "$extends" to replace it whole`);
  const telemetry = new TelemetryPayload(devices);
  return Object.keys(fields).length ? new ExtendedPayload(telemetry, new TemplatePayload(fields, devices, source)) : telemetry;
}

/** The payload source of a shard: the template file when given, else the original telemetry. */
export function createPayloadSource(devices: readonly PayloadDevice[], templateFile?: string): PayloadSource {
  if (!templateFile) return new TelemetryPayload(devices);
  let template: unknown;
  try {
    template = JSON.parse(readFileSync(templateFile, 'utf8'));
  } catch (e) {
    throw new LabError('CONFIG_FILE_UNREADABLE', { message: `PAYLOAD_TEMPLATE ${templateFile} is not readable JSON: ${(e as Error).message}` });
  }
  return fromTemplate(template, devices, `PAYLOAD_TEMPLATE ${templateFile}`);
}
