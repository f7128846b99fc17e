// Telemetry payloads: the original lab's fields with plausible random walks kept per device in
// typed arrays, or a user template (PAYLOAD_TEMPLATE). The original telemetry is written as bytes
// straight into the packet buffer (no string, no per-message object); templates build a string.
import { readFileSync } from 'node:fs';
import { LabError } from '../shared/errors.js';

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

// Byte writers for the telemetry hot path. Number-to-string conversion and the string's copy
// into the packet were 1.5 of 2.2 µs per message (10k devices, this machine); writing digits
// directly costs ~0.3 µs (bench/README.md, Findings).
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** Copies `b[from..to)` (default all of `b`) to `buf` at `off`; returns the end offset. */
function putBytes(buf: Buffer, off: number, b: Uint8Array, from = 0, to = b.length): number {
  for (let k = from; k < to; k++) buf[off++] = b[k];
  return off;
}

/** Writes a non-negative integer below 2^31 with int arithmetic; `width` pads with zeros. */
function putSmall(buf: Buffer, off: number, n: number, width: number): number {
  let end = off + 1;
  for (let p = 10; p <= n; p *= 10) end++;
  if (end - off < width) end = off + width;
  let k = end;
  while (k > off) {
    const q = (n / 10) | 0;
    buf[--k] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

/** Writes a non-negative integer (below 2^53) in decimal; returns the end offset. */
export function putUint(buf: Buffer, off: number, n: number): number {
  if (n < 0x80000000) return putSmall(buf, off, n, 1);
  // epoch milliseconds: high digits, then the low nine zero-padded, both in int arithmetic
  const hi = Math.floor(n / 1e9);
  return putSmall(buf, putUint(buf, off, hi), n - hi * 1e9, 9);
}

/** Writes `x` rounded to 2 decimals exactly as `String(Math.round(x * 100) / 100)` prints it. */
export function putFixed2(buf: Buffer, off: number, x: number): number {
  let c = Math.round(x * 100);
  if (c < 0) {
    buf[off++] = 45; // '-'
    c = -c;
  }
  const ip = Math.floor(c / 100);
  const f = c - ip * 100;
  off = putUint(buf, off, ip);
  if (f !== 0) {
    buf[off++] = 46; // '.'
    const d1 = (f / 10) | 0;
    buf[off++] = 48 + d1;
    if (f !== d1 * 10) buf[off++] = 48 + (f - d1 * 10);
  }
  return off;
}

const K = {
  ts: bytes('{"timestamp":'),
  device: bytes(',"device":'),
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
const ISSUES = ['null', '"low_battery"', '"overheating"', '"high_cpu"', '"network_degraded"'].map(bytes);
const STATUSES = ['"ok"', '"warning"', '"critical"'].map(bytes);
/** Longest rendering of the fixed parts and of every number (timestamp/sequence ≤ 16 digits, readings ≤ 8 chars). */
const FIXED_MAX = Object.values(K).reduce((a, b) => a + b.length, 0) + 2 * 16 + 6 * 8 + 12 + 20;

/** Readings per device, interleaved in one array (one cache line per device, not six). */
const TEMP = 0, HUM = 1, BATT = 2, CPU = 3, MEM = 4, LAT = 5, READINGS = 6;

/** The original lab's telemetry: timestamp, device, sequence and seven random-walk readings. */
export class TelemetryPayload implements PayloadSource {
  readonly ascii: boolean;
  readonly maxBytes: number;
  /** JSON-quoted device names, UTF-8, back to back; device i is names[nameAt[i] .. nameAt[i + 1]). */
  private readonly names: Uint8Array;
  private readonly nameAt: Int32Array;
  private readonly walk: Float64Array;
  /** `{"timestamp":<ts>,"device":` for the last timestamp written (many messages share one ms). */
  private readonly head = Buffer.alloc(K.ts.length + 16 + K.device.length);
  private headLen = 0;
  private headTs = -1;
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
      this.walk[w + BATT] = between(60, 100);
      this.walk[w + CPU] = between(5, 60);
      this.walk[w + MEM] = between(128, 512);
      this.walk[w + LAT] = between(5, 50);
    }
  }

  writeTo(buf: Buffer, off: number, i: number, seq: number, now: number): number {
    const v = this.walk;
    const w = i * READINGS;
    const temp = (v[w + TEMP] = clamp(v[w + TEMP] + step(0.3), 5, 45));
    const hum = (v[w + HUM] = clamp(v[w + HUM] + step(1), 10, 95));
    let batt = v[w + BATT] - Math.random() * 0.02;
    if (batt < 5) batt = 100; // recharged
    v[w + BATT] = batt;
    const cpu = (v[w + CPU] = clamp(v[w + CPU] + step(3), 0, 100));
    const mem = (v[w + MEM] = clamp(v[w + MEM] + step(4), 64, 1024));
    // mostly a small walk, now and then a network spike
    const prev = v[w + LAT];
    const lat = (v[w + LAT] = clamp((prev > 100 ? prev * 0.8 : prev) + step(2) + (Math.random() < 0.01 ? 150 : 0), 1, 500));
    const issue = batt < 10 ? 1 : temp > 40 ? 2 : cpu > 90 ? 3 : lat > 200 ? 4 : 0;
    const status = batt < 10 || temp > 40 ? 2 : issue !== 0 || batt < 20 || temp > 35 ? 1 : 0;
    if (now !== this.headTs) {
      this.headTs = now;
      this.headLen = putBytes(this.head, putUint(this.head, putBytes(this.head, 0, K.ts), now), K.device);
    }
    off = putBytes(buf, off, this.head, 0, this.headLen);
    off = putBytes(buf, off, this.names, this.nameAt[i], this.nameAt[i + 1]);
    off = putUint(buf, putBytes(buf, off, K.seq), seq);
    off = putFixed2(buf, putBytes(buf, off, K.temp), temp);
    off = putFixed2(buf, putBytes(buf, off, K.hum), hum);
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
 * `{{timestamp}}`, `{{device}}`, `{{sequence}}`, `{{index}}`, `{{random:MIN:MAX}}` (2 decimals),
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
        case 'timestamp': f = (_i, _s, now) => String(now); break;
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
      if (whole) return mark(compile(whole[1], whole[2], whole[1] === 'device' || whole[1] === 'choice'));
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

/** The payload source of a shard: the template file when given, else the original telemetry. */
export function createPayloadSource(devices: readonly PayloadDevice[], templateFile?: string): PayloadSource {
  if (!templateFile) return new TelemetryPayload(devices);
  let template: unknown;
  try {
    template = JSON.parse(readFileSync(templateFile, 'utf8'));
  } catch (e) {
    throw new LabError('CONFIG_FILE_UNREADABLE', { message: `PAYLOAD_TEMPLATE ${templateFile} is not readable JSON: ${(e as Error).message}` });
  }
  return new TemplatePayload(template, devices, `PAYLOAD_TEMPLATE ${templateFile}`);
}
