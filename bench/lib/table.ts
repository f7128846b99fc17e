// Human output of a benchmark run: one row per scenario, lab next to baseline.
import type { ScenarioResult } from './bench.js';

const f = (x: number | null | undefined, d = 1) =>
  x === null || x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function formatTable(rows: readonly ScenarioResult[]): string {
  const head = [
    '',
    'µs/msg',
    'µs/child msg',
    'baseline µs/msg',
    'ratio',
    'received msg/s',
    'intended msg/s',
    'lag p99 ms',
    'ack p99 ms',
    'RSS MB',
    'KB/conn',
    'connect s',
    'foreign CPU %',
    'goal',
    'met',
  ];
  const body = rows.map((r) => [
    r.name,
    f(r.usPerMsg, 2),
    f(r.usPerChildMsg, 2),
    f(r.baselineUsPerMsg, 2),
    f(r.ratio, 2),
    f(r.receivedPerSec, 0),
    f(r.intendedPerSec, 0),
    f(r.scheduleLagP99Ms, 1),
    f(r.ackP99Ms, 1),
    f(r.rssMB, 0),
    r.kbPerConn === null ? '—' : `${f(r.kbPerConn, 1)}${r.baseline ? ` (base ${f(r.baseline.kbPerConn, 1)})` : ''}`,
    r.connectSeconds === null ? '—' : `${f(r.connectSeconds, 2)}${r.baseline ? ` (base ${f(r.baseline.connectSeconds, 2)})` : ''}`,
    f(r.foreignCpuPct, 0),
    r.goal,
    r.pass === null ? '—' : r.pass ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i >= cells.length - 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
