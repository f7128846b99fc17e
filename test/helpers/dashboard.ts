// Test helpers for the dashboard: start one on 127.0.0.1 port 0 (closed after the test), a tiny
// Prometheus text parser, and an SSE reader over a real HTTP connection.
import { cleanup, type Scope } from './cleanup.js';
import { buildDashboard, type Dashboard, type DashboardOptions } from '../../src/dashboard/index.js';

export async function startDashboard(t: Scope, opts: Partial<DashboardOptions> = {}): Promise<{ dash: Dashboard; url: string }> {
  const dash = buildDashboard({ host: '127.0.0.1', port: 0, refreshMs: 200, runId: 'test-run', ...opts });
  const url = await dash.listen();
  cleanup(t, () => dash.close());
  return { dash, url };
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface PromText {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: PromSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

/** Parses the Prometheus 0.0.4 text format strictly; throws on any line it does not understand. */
export function parseExposition(text: string): PromText {
  const out: PromText = { types: new Map(), help: new Map(), samples: [] };
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'TYPE' ? out.types : out.help).set(meta[2], meta[3]);
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not a sample: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const lm = LABEL.exec(m[2]);
        if (!lm) throw new Error(`line ${i + 1}: bad labels: ${m[2]}`);
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`line ${i + 1}: bad value ${m[3]}`);
    out.samples.push({ name: m[1], labels, value });
  });
  return out;
}

/** Family a sample belongs to (`x_bucket` → `x` for histograms). */
export function familyOf(p: PromText, name: string): string | undefined {
  if (p.types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return p.types.get(base) === 'histogram' || p.types.get(base) === 'summary' ? base : undefined;
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Opens /api/stream and yields parsed events; `close()` aborts the request. */
export async function openStream(url: string): Promise<{ next: (timeoutMs?: number) => Promise<SseEvent>; close: () => void }> {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/stream`, { signal: ac.signal });
  if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const queue: SseEvent[] = [];
  // a read that lost a race against the timeout is kept, so no chunk is ever dropped
  let pending: ReturnType<typeof reader.read> | null = null;
  async function next(timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = queue.shift();
      if (ev) return ev;
      if (Date.now() > deadline) throw new Error('no SSE event in time');
      const timer = new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error('no SSE event in time')), Math.max(1, deadline - Date.now())).unref(),
      );
      pending ??= reader.read();
      const { value, done } = await Promise.race([pending, timer]);
      pending = null;
      if (done) throw new Error('stream ended');
      buf += value;
      let idx: number;
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        let event = 'message';
        const data: string[] = [];
        for (const l of block.split('\n')) {
          if (l.startsWith('event: ')) event = l.slice(7);
          else if (l.startsWith('data: ')) data.push(l.slice(6));
        }
        if (data.length) queue.push({ event, data: data.join('\n') });
      }
    }
  }
  return { next, close: () => ac.abort() };
}
