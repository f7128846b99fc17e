// User payload templates (PAYLOAD_TEMPLATE): a JSON document whose string values hold {{placeholders}},
// compiled once into text parts and value functions. Separate from the default telemetry because it builds
// strings, off the byte-writing hot path, and holds the template language's parsing and errors.
import { LabError } from '../common/errors.js';
import { between, clamp, isAscii, r2, step } from './payload-telemetry.js';
import type { PayloadDevice, PayloadSource } from './payload.js';

type Part = string | ((i: number, seq: number, now: number) => string);

const PLACEHOLDER = /^\{\{\s*([a-zA-Z]+)(?::([^}]*))?\s*\}\}$/;
const INLINE = /\{\{\s*[a-zA-Z]+(?::[^}]*)?\s*\}\}/g;

/**
 * A user template: any JSON document whose string values may hold placeholders —
 * `{{timestamp}}` (ms), `{{timestamp:iso}}` (ISO-8601 UTC), `{{device}}`, `{{sequence}}`, `{{index}}`,
 * `{{random:MIN:MAX}}` (2 decimals), `{{int:MIN:MAX}}`, `{{walk:MIN:MAX}}` (per-device random walk), `{{choice:a|b|c}}`.
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
        case 'sequence':
          f = (_i, seq) => String(seq);
          break;
        case 'index': {
          const idx = devices.map((d) => String(d.index));
          f = (i) => idx[i];
          break;
        }
        case 'device': {
          const names = devices.map((d) => (quoted ? JSON.stringify(d.name) : JSON.stringify(d.name).slice(1, -1)));
          f = (i) => names[i];
          break;
        }
        case 'random': {
          const [a, b] = nums();
          f = () => String(r2(between(a, b)));
          break;
        }
        case 'int': {
          const [a, b] = nums();
          f = () => String(Math.floor(between(a, b + 1)));
          break;
        }
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
        default:
          throw bad(`unknown placeholder {{${kind}}}`);
      }
      fns.push(f);
      return fns.length - 1;
    };
    const bad = (why: string) =>
      new LabError('CONFIG_INVALID', { message: `${source}: ${why}`, hint: 'See docs/running.md, Payload, for the placeholders.' });

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
