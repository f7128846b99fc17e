// A parser of the Prometheus text exposition format (version 0.0.4: `# HELP`, `# TYPE`, samples
// `name{label="value",...} value [timestamp]`) and a scraper of one endpoint. Enough for
// ThingsBoard's /actuator/prometheus (Micrometer's output, which ends label lists with a comma).
import { LabError } from '../common/errors.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Sample timestamp when the line carries one, ms. */
  ts?: number;
}

export interface Exposition {
  samples: Sample[];
  /** Declared metric types by family name (`counter`, `gauge`, `summary`, `histogram`, `untyped`). */
  types: Record<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(s: string): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) throw new Error(`bad sample value ${JSON.stringify(s)}`);
  return n;
}

/** Parses `name{labels}` from the start of `line`; returns the sample's name, labels and the rest. */
function parseSeries(line: string): { name: string; labels: Record<string, string>; rest: string } {
  const m = NAME.exec(line);
  if (!m) throw new Error('no metric name');
  const labels: Record<string, string> = {};
  let i = m[0].length;
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const lm = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!lm) throw new Error('bad label name');
      i += lm[0].length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`label ${lm[0]} without ="value"`);
      i += 2;
      let v = '';
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\') {
          i++;
          v += line[i] === 'n' ? '\n' : line[i];
        } else v += line[i];
      }
      if (line[i] !== '"') throw new Error('unterminated label value');
      i++;
      labels[lm[0]] = v;
      while (line[i] === ' ') i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error('expected , or } after a label');
    }
  }
  return { name: m[0], labels, rest: line.slice(i).trim() };
}

/** Parses exposition text; a malformed line throws an Error naming its line number. */
export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const t = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (t) types[t[1]] = t[2];
      continue;
    }
    try {
      const { name, labels, rest } = parseSeries(line);
      const [v, ts] = rest.split(/\s+/);
      const sample: Sample = { name, labels, value: parseValue(v ?? '') };
      if (ts !== undefined) sample.ts = Number(ts);
      samples.push(sample);
    } catch (e) {
      throw new Error(`line ${n + 1}: ${(e as Error).message}: ${line.slice(0, 120)}`, { cause: e });
    }
  }
  return { samples, types };
}

/** Sum of the samples of `name` whose labels include `match` (NaN-free; 0 when none match). */
export function sumOf(exp: Exposition, name: string, match: Record<string, string> = {}): { value: number; found: boolean } {
  let value = 0;
  let found = false;
  for (const s of exp.samples) {
    if (s.name !== name || Number.isNaN(s.value)) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) {
      value += s.value;
      found = true;
    }
  }
  return { value, found };
}

/** A URL as shown in messages and reports: no user-info, no query (either may carry a credential). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(the Prometheus URL)';
  }
}

/** Scrapes one endpoint. ThingsBoard serves the actuator openly; user-info in the URL (a proxy in front) becomes Basic auth. */
export async function scrapePrometheus(url: string, timeoutMs = 5000): Promise<Exposition> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: 'text/plain;version=0.0.4' };
  if (u.username || u.password) {
    const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  const shown = shownUrl(url);
  let res: Response;
  try {
    res = await fetch(u, { signal: AbortSignal.timeout(timeoutMs), headers });
  } catch (e) {
    throw new LabError('TARGET_UNREACHABLE', {
      message: `Prometheus endpoint ${shown} did not answer: ${(e as Error).message}`,
      hint: 'check TB_METRICS_URL',
    });
  }
  const text = await res.text();
  if (!res.ok)
    throw new LabError('TARGET_UNREACHABLE', {
      message: `Prometheus endpoint ${shown} answered HTTP ${res.status}`,
      hint: 'check TB_METRICS_URL; ThingsBoard needs METRICS_ENABLED=true and METRICS_ENDPOINTS_EXPOSE=prometheus',
    });
  return parsePrometheusText(text);
}
