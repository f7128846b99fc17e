// Telemetry payloads: the original lab's fields with plausible random walks kept per device in
// typed arrays, or a user template (PAYLOAD_TEMPLATE). Payloads are built by string concatenation
// rather than JSON.stringify of a fresh object: no per-message object, only the string itself.
import { readFileSync } from 'node:fs';
import { LabError } from '../shared/errors.js';

/** Builds the payload of message `seq` (1-based) of local device `i` at wall time `now` (ms). */
export interface PayloadSource {
  /** True when every payload is 7-bit ASCII (lets the encoder skip a UTF-8 length scan). */
  readonly ascii: boolean;
  next(i: number, seq: number, now: number): string;
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

/** The original lab's telemetry: timestamp, device, sequence and seven random-walk readings. */
export class TelemetryPayload implements PayloadSource {
  readonly ascii: boolean;
  private readonly names: string[];
  private readonly temp: Float64Array;
  private readonly hum: Float64Array;
  private readonly batt: Float64Array;
  private readonly cpu: Float64Array;
  private readonly mem: Float64Array;
  private readonly lat: Float64Array;

  constructor(devices: readonly PayloadDevice[]) {
    const n = devices.length;
    this.names = devices.map((d) => JSON.stringify(d.name));
    this.ascii = this.names.every(isAscii);
    this.temp = Float64Array.from({ length: n }, () => between(18, 30));
    this.hum = Float64Array.from({ length: n }, () => between(30, 70));
    this.batt = Float64Array.from({ length: n }, () => between(60, 100));
    this.cpu = Float64Array.from({ length: n }, () => between(5, 60));
    this.mem = Float64Array.from({ length: n }, () => between(128, 512));
    this.lat = Float64Array.from({ length: n }, () => between(5, 50));
  }

  next(i: number, seq: number, now: number): string {
    const temp = (this.temp[i] = clamp(this.temp[i] + step(0.3), 5, 45));
    const hum = (this.hum[i] = clamp(this.hum[i] + step(1), 10, 95));
    let batt = this.batt[i] - Math.random() * 0.02;
    if (batt < 5) batt = 100; // recharged
    this.batt[i] = batt;
    const cpu = (this.cpu[i] = clamp(this.cpu[i] + step(3), 0, 100));
    const mem = (this.mem[i] = clamp(this.mem[i] + step(4), 64, 1024));
    // mostly a small walk, now and then a network spike
    const prev = this.lat[i];
    const lat = (this.lat[i] = clamp((prev > 100 ? prev * 0.8 : prev) + step(2) + (Math.random() < 0.01 ? 150 : 0), 1, 500));
    const issue =
      batt < 10 ? '"low_battery"' : temp > 40 ? '"overheating"' : cpu > 90 ? '"high_cpu"' : lat > 200 ? '"network_degraded"' : 'null';
    const status = batt < 10 || temp > 40 ? '"critical"' : issue !== 'null' || batt < 20 || temp > 35 ? '"warning"' : '"ok"';
    return (
      '{"timestamp":' + now +
      ',"device":' + this.names[i] +
      ',"sequence":' + seq +
      ',"temperature":' + r2(temp) +
      ',"humidity":' + r2(hum) +
      ',"battery":' + r2(batt) +
      ',"cpu_usage_percent":' + r2(cpu) +
      ',"memory_usage_mb":' + r2(mem) +
      ',"network_latency_ms":' + r2(lat) +
      ',"status":' + status +
      ',"issue":' + issue + '}'
    );
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
    const bad = (why: string) => new LabError('CONFIG_INVALID', { message: `${source}: ${why}`, hint: 'See README, Payload, for the placeholders.' });

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
