// Plain-text tables and number formats for summaries meant to be pasted into incident reports:
// no colours, no box-drawing, columns padded with spaces, numbers right-aligned.

export interface TableOptions {
  /** Spaces before every line. Default 0. */
  indent?: number;
  /** Per column: 'l' or 'r'. Default: right for cells that read as numbers, else left. */
  align?: ReadonlyArray<'l' | 'r'>;
}

const NUMERIC = /^[-+]?[\d,.]+\s*(%|ms|s|\/s|MB|KB|GB|B|Mbit\/s|x)?(\s*\(.*\))?$|^—$|^[-+]\d/;

export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, opts: TableOptions = {}): string {
  const width = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const align = headers.map((_, c) => opts.align?.[c] ?? (rows.length > 0 && rows.every((r) => NUMERIC.test(r[c] ?? '')) ? 'r' : 'l'));
  const pad = ' '.repeat(opts.indent ?? 0);
  const line = (cells: readonly string[]) =>
    pad +
    cells
      .map((s, c) => (align[c] === 'r' ? s.padStart(width[c]) : s.padEnd(width[c])))
      .join('  ')
      .trimEnd();
  const out = [line(headers), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(headers.map((_, c) => r[c] ?? '')))];
  return out.join('\n');
}

/** `12,345` / `1,234.5` with at most `digits` decimals; `—` for null. */
export function num(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Milliseconds: `12.3 ms`, `—` for null. */
export function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${num(v, v < 10 ? 2 : 1)} ms`;
}

/** A share 0…1 as a percentage: `99.5%`. */
export function pct(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${num(v * 100, digits)}%`;
}

/** Bytes as B / KB / MB / GB (1024-based). */
export function bytes(v: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${num(v, i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Seconds as `1h 02m 03s`, `4m 05s`, `12.5s`. */
export function duration(sec: number): string {
  if (sec < 60) return `${num(sec, 1)}s`;
  const s = Math.round(sec);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    r = s % 60;
  const two = (x: number) => String(x).padStart(2, '0');
  return h > 0 ? `${h}h ${two(m)}m ${two(r)}s` : `${m}m ${two(r)}s`;
}

/** `cause: 3, other: 1` sorted by count, `none` when empty. */
export function counts(map: Record<string, number> | undefined): string {
  const e = Object.entries(map ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return e.length ? e.map(([k, n]) => `${k}: ${num(n)}`).join(', ') : 'none';
}
