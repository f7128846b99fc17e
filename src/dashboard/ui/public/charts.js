// The four time-series charts (uPlot, served from node_modules/uplot/dist by the lab itself).
import uPlot from '/vendor/uPlot.esm.js';
import { count } from './format.js';

/** Compact axis labels for milliseconds: 0.5, 12, 340, 1.2s. */
const axisMs = (v) => (v >= 1000 ? `${+(v / 1000).toFixed(1)}s` : v >= 10 ? String(Math.round(v)) : String(+v.toFixed(2)));

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function axisStyle() {
  const stroke = css('--muted');
  const grid = { stroke: css('--grid'), width: 1 };
  return { stroke, grid, ticks: { stroke: css('--grid'), width: 1 } };
}

/** `dots`: mark every point (sparse series, e.g. one point per ThingsBoard window). */
export function makeChart(el, series, fmt, dots = false) {
  const ax = axisStyle();
  const opts = {
    width: Math.max(200, el.clientWidth),
    height: 180,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [{ ...ax }, { ...ax, size: 60, values: (u, vals) => vals.map(fmt) }],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: css(s.color),
        width: 2,
        fill: s.fill ? css(s.color) + '22' : undefined,
        points: { show: dots, size: 6 },
        spanGaps: true,
      })),
    ],
  };
  const data = [[], ...series.map(() => [])];
  return { plot: new uPlot(opts, data, el), el };
}

/** Creates the charts in their containers; returns `update(series)` taking snapshot.series. */
export function createCharts() {
  const charts = {
    rate: makeChart(
      document.getElementById('chart-rate'),
      [
        { label: 'sent', color: '--accent' },
        { label: 'acked', color: '--accent2' },
      ],
      (v) => count(v),
    ),
    mbps: makeChart(document.getElementById('chart-mbps'), [{ label: 'Mbps', color: '--accent', fill: true }], (v) =>
      v.toFixed(v >= 10 ? 0 : 2),
    ),
    connected: makeChart(document.getElementById('chart-connected'), [{ label: 'connected', color: '--accent2', fill: true }], (v) =>
      count(v),
    ),
    ack: makeChart(document.getElementById('chart-ack'), [{ label: 'ack p99', color: '--warn' }], axisMs),
  };

  const resize = () => {
    for (const c of Object.values(charts)) c.plot.setSize({ width: Math.max(200, c.el.clientWidth), height: 180 });
  };
  new ResizeObserver(resize).observe(document.querySelector('.charts'));

  return function update(series) {
    const xs = series.map((p) => p.ts / 1000);
    charts.rate.plot.setData([xs, series.map((p) => p.sentPerSec), series.map((p) => p.ackedPerSec)]);
    charts.mbps.plot.setData([xs, series.map((p) => p.mbpsOut)]);
    charts.connected.plot.setData([xs, series.map((p) => p.connected)]);
    charts.ack.plot.setData([xs, series.map((p) => p.ackP99Ms)]);
    // how many points each chart holds, readable from the DOM (tests, accessibility tools)
    for (const c of Object.values(charts)) c.el.dataset.points = String(xs.length);
  };
}
