// A card and a chart per workload of the run (issue 16), built from snapshot.workloads alone, so a
// new workload needs no change here: the card lists its counters in the order the snapshot gives
// them, its failures by cause and each histogram's p50/p99; the chart draws the primary latency's
// p50/p99 of each second (left axis, ms) and its charted counters per second (right axis).
import uPlot from '/vendor/uPlot.esm.js';
import { count, ms } from './format.js';

const $ = (id) => document.getElementById(id);
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const RATE_COLORS = ['--accent', '--accent2', '--bad'];
const STRUCTURE = new Set(['rates', 'byCause', 'series']);
const isHist = (v) => v && typeof v === 'object' && !Array.isArray(v) && 'count' in v && 'p99' in v;
/** `inFlight` → `in flight`, `latencyMs` → `latency`. */
const words = (k) => k.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
const axisMs = (v) => (v >= 1000 ? `${+(v / 1000).toFixed(1)}s` : v >= 10 ? String(Math.round(v)) : String(+v.toFixed(2)));

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function makeChart(box, rateKeys) {
  const grid = { stroke: css('--grid'), width: 1 };
  const ax = { stroke: css('--muted'), grid, ticks: grid };
  const opts = {
    width: Math.max(200, box.clientWidth),
    height: 180,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      ms: { range: (u, a, b) => [0, b > 0 ? b * 1.1 : 1] },
      rate: { range: (u, a, b) => [0, b > 0 ? b * 1.1 : 1] },
    },
    axes: [
      { ...ax },
      { ...ax, scale: 'ms', size: 50, values: (u, v) => v.map(axisMs) },
      { ...ax, scale: 'rate', side: 1, size: 50, grid: { show: false }, values: (u, v) => v.map((x) => count(x)) },
    ],
    series: [
      {},
      { label: 'p50', scale: 'ms', stroke: css('--accent2'), width: 2, spanGaps: true },
      { label: 'p99', scale: 'ms', stroke: css('--warn'), width: 2, spanGaps: true },
      ...rateKeys.map((k, n) => ({
        label: `${k}/s`,
        scale: 'rate',
        stroke: css(RATE_COLORS[n % RATE_COLORS.length]),
        width: 1,
        dash: [4, 3],
      })),
    ],
  };
  return new uPlot(opts, [[], [], [], ...rateKeys.map(() => [])], box);
}

export function createWorkloadsView() {
  const views = new Map();
  const resize = () => {
    for (const v of views.values()) v.plot.setSize({ width: Math.max(200, v.box.clientWidth), height: 180 });
  };
  new ResizeObserver(resize).observe($('workload-charts'));

  function view(name, rateKeys) {
    let v = views.get(name);
    if (v) return v;
    const card = el('article', undefined, 'card');
    card.id = `card-workload-${name}`;
    card.append(el('h2', `workload · ${name}`), el('dl'));
    $('workload-cards').append(card);
    const fig = el('figure', undefined, 'chart');
    const cap = el('figcaption', `${name}: latency p50/p99 (ms, left) and per second (right) `);
    const legend = el('span', undefined, 'legend');
    legend.append(
      el('i', undefined, 'c2'),
      ' p50 ',
      el('i', undefined, 'c3'),
      ' p99 ',
      ...rateKeys.flatMap((k, n) => [el('i', undefined, `c${[1, 2, 4][n % 3]}`), ` ${k}/s `]),
    );
    cap.append(legend);
    const box = el('div');
    box.id = `chart-workload-${name}`;
    fig.append(cap, box);
    $('workload-charts').append(fig);
    v = { card, box, plot: makeChart(box, rateKeys), rateKeys };
    views.set(name, v);
    return v;
  }

  return function update(s) {
    const workloads = s.workloads || {};
    const names = Object.keys(workloads);
    $('workload-cards').hidden = names.length === 0;
    $('workload-charts').hidden = names.length === 0;
    for (const name of names) {
      const w = workloads[name];
      const series = w.series || [];
      const rateKeys = Object.keys(series.at(-1)?.rates || {});
      const v = view(name, rateKeys);
      const rows = [];
      for (const [k, x] of Object.entries(w)) {
        if (STRUCTURE.has(k)) continue;
        if (typeof x === 'number') rows.push([words(k), count(x) + (w.rates?.[k] !== undefined ? ` (${count(w.rates[k], 1)}/s)` : '')]);
        else if (isHist(x)) rows.push([`${words(k)} p50 / p99`, `${ms(x.p50)} / ${ms(x.p99)}`]);
      }
      for (const [cause, n] of Object.entries(w.byCause || {})) rows.push([cause, count(n), 'bad']);
      v.card.querySelector('dl').replaceChildren(...rows.flatMap(([k, x, cls]) => [el('dt', k), el('dd', x, cls)]));
      const xs = series.map((p) => p.ts / 1000);
      v.plot.setData([
        xs,
        series.map((p) => p.p50Ms),
        series.map((p) => p.p99Ms),
        ...v.rateKeys.map((k) => series.map((p) => p.rates[k] ?? null)),
      ]);
      // how many points the chart holds, readable from the DOM (tests, accessibility tools)
      v.box.dataset.points = String(xs.length);
    }
  };
}
