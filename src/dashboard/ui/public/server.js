// The ThingsBoard card and charts: ThingsBoard's statistics about itself as the server-stats sink
// has read them so far (snapshot.server, issue 19). Each point stays in its own window: a count is
// shown per second of *its* window (queue stats: ThingsBoard's window), never interpolated.
import { makeChart } from './charts.js';
import { count } from './format.js';

const $ = (id) => document.getElementById(id);

/** The chart lines: [series name, label, colour, per second?]. */
const RATES = [
  ['lab.sent', 'lab sent/s', '--accent'],
  ['apiUsage.transportMsgCount', 'transport msgs/s', '--accent2'],
  ['queueStats.Main.successfulMsgs', 'rule-engine successful/s', '--warn'],
  ['apiUsage.storageDataPointsCount', 'stored points/s', '--bad'],
];
const PROBLEMS = [
  ['queueStats.Main.timeoutMsgs', 'queue timeouts', '--bad', false],
  ['queueStats.Main.failedMsgs', 'queue failures', '--warn', false],
  ['prometheus.tsQueueBacklog', 'write backlog', '--accent', false],
];

const find = (server, name) => server.series.find((x) => x.name === name);
/** A point's value per second of its window (counts), or as read (gauges). */
const perSec = (s, p) => (s.kind === 'count' && s.windowSec ? p.v / s.windowSec : p.v);
const last = (server, name) => {
  const s = find(server, name);
  const p = s?.points.at(-1);
  return p ? { s, p } : null;
};

/** Aligns several series on the union of their times (uPlot wants one x axis); gaps stay gaps. */
function align(server, lines, rate) {
  const all = lines.map(([name]) => find(server, name));
  const xs = [...new Set(all.flatMap((s) => (s ? s.points.map((p) => p.t) : [])))].sort((a, b) => a - b);
  const cols = all.map((s) => {
    const at = new Map((s?.points ?? []).map((p) => [p.t, rate ? perSec(s, p) : p.v]));
    return xs.map((t) => (at.has(t) ? at.get(t) : null));
  });
  return [xs.map((t) => t / 1000), ...cols];
}

export function createServerView() {
  let charts = null;
  return function update(snapshot) {
    const server = snapshot.server;
    $('server-card').hidden = !server;
    $('server-charts').hidden = !server;
    if (!server) return;
    if (!charts) {
      charts = {
        rates: makeChart(
          $('chart-server-rates'),
          RATES.map(([, label, color]) => ({ label, color })),
          (v) => count(v),
          true,
        ),
        problems: makeChart(
          $('chart-server-problems'),
          PROBLEMS.map(([, label, color]) => ({ label, color })),
          (v) => count(v),
          true,
        ),
      };
      const resize = () => {
        for (const c of Object.values(charts)) c.plot.setSize({ width: Math.max(200, c.el.clientWidth), height: 180 });
      };
      new ResizeObserver(resize).observe($('server-charts'));
    }
    const rates = align(server, RATES, true);
    const problems = align(server, PROBLEMS, false);
    charts.rates.plot.setData(rates);
    charts.problems.plot.setData(problems);
    // how many points each chart holds, readable from the DOM (tests, accessibility tools)
    charts.rates.el.dataset.points = String(rates[0].length);
    charts.problems.el.dataset.points = String(problems[0].length);

    const row = (label, name, unit) => {
      const l = last(server, name);
      if (!l) return [label, 'not read', 'muted'];
      const win = l.s.windowSec ? ` (${l.s.windowSec} s window)` : '';
      const v = unit === '/s' ? `${count(perSec(l.s, l.p), 1)}/s` : count(l.p.v);
      const bad = unit !== '/s' && l.p.v > 0 ? 'bad' : undefined;
      return [label, v + win, bad];
    };
    const rows = [
      ...RATES.map(([name, label]) => row(label.replace('/s', ''), name, '/s')),
      // storage counts data points (one message carries several): its counterpart is the transport's points
      row('transport points', 'apiUsage.transportDataPointsCount', '/s'),
      ...PROBLEMS.map(([name, label]) => row(label, name, '')),
      row('host CPU %', 'system.cpuUsage', ''),
    ];
    $('card-server').replaceChildren(
      ...rows.flatMap(([k, v, cls]) => {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        if (cls) dd.className = cls;
        return [dt, dd];
      }),
    );
    $('server-notes').replaceChildren(
      ...server.notVisible.map((n) => {
        const li = document.createElement('li');
        li.textContent = `not visible: ${n}`;
        return li;
      }),
    );
  };
}
