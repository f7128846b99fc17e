// The live view of a `tblab limit` search (GET /api/limit): the current step, the step table and
// the classic load-vs-latency chart — PUBACK p50/p99 (left axis) and loss (bars, right axis)
// against achieved msg/s, one point per step — with the knee marked between the highest passing and
// the lowest failing step. Hidden when the server runs no search.
import { count, ms } from './format.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const W = 800,
  H = 260,
  L = 56,
  R = 48,
  T = 14,
  B = 34;

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function chart(view) {
  const svg = $('limit-chart');
  svg.replaceChildren();
  const pts = view.steps.filter((s) => !s.retried).sort((a, b) => a.sentPerSec - b.sentPerSec);
  if (!pts.length) return;
  const xMax = Math.max(...pts.map((p) => p.sentPerSec)) * 1.08 || 1;
  const yMax = Math.max(1, ...pts.map((p) => p.ackP99Ms ?? 0), ...pts.map((p) => p.ackP50Ms ?? 0)) * 1.1;
  const lMax = Math.max(1, ...pts.map((p) => p.lost ?? 0));
  const x = (v) => L + (v / xMax) * (W - L - R);
  const y = (v) => H - B - (v / yMax) * (H - T - B);
  const yl = (v) => H - B - (v / lMax) * (H - T - B) * 0.5;
  svg.append(
    el('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }),
    el('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
  );
  for (let i = 0; i <= 4; i++) {
    svg.append(el('text', { class: 'tick', x: x((xMax * i) / 4), y: H - B + 16, 'text-anchor': 'middle' }, count((xMax * i) / 4)));
    svg.append(el('text', { class: 'tick', x: L - 6, y: y((yMax * i) / 4) + 4, 'text-anchor': 'end' }, ms((yMax * i) / 4)));
  }
  svg.append(el('text', { class: 'tick', x: W - R, y: H - 4, 'text-anchor': 'end' }, 'achieved msg/s'));
  svg.append(el('text', { class: 'tick', x: W - 4, y: T + 4, 'text-anchor': 'end' }, `lost ≤ ${count(lMax)}`));
  for (const p of pts) {
    if (p.lost)
      svg.append(
        el('rect', { class: 'lost', 'data-step': p.index, x: x(p.sentPerSec) - 5, y: yl(p.lost), width: 10, height: H - B - yl(p.lost) }),
      );
  }
  for (const key of ['ackP50Ms', 'ackP99Ms']) {
    const cls = key === 'ackP50Ms' ? 'p50' : 'p99';
    const line = pts.filter((p) => p[key] !== null).map((p) => `${x(p.sentPerSec).toFixed(1)},${y(p[key]).toFixed(1)}`);
    if (line.length > 1) svg.append(el('polyline', { class: cls, points: line.join(' ') }));
    for (const p of pts.filter((q) => q[key] !== null)) {
      const c = el('circle', {
        class: `${cls} pt ${p.passed ? 'pass' : 'fail'}`,
        'data-step': p.index,
        cx: x(p.sentPerSec),
        cy: y(p[key]),
        r: 4,
      });
      c.append(
        el('title', {}, `${count(p.asked)} asked, ${count(p.sentPerSec, 1)} msg/s: ${cls} ${ms(p[key])}${p.passed ? '' : ' — failed'}`),
      );
      svg.append(c);
    }
  }
  if (view.knee) {
    const kx = x((view.knee.goodPerSec + view.knee.badPerSec) / 2);
    svg.append(
      el('line', { class: 'knee', 'data-knee': `${view.knee.goodAsked}-${view.knee.badAsked}`, x1: kx, y1: T, x2: kx, y2: H - B }),
    );
    svg.append(
      el(
        'text',
        { class: 'knee-label', x: kx + 4, y: T + 12 },
        `knee ${count(view.knee.goodAsked)}–${count(view.knee.badAsked)} ${view.unit}`,
      ),
    );
  }
}

function table(view) {
  const rows = view.steps.map((s) => {
    const tr = document.createElement('tr');
    const verdict = s.retried ? 'failed, retried' : s.passed ? 'pass' : `FAIL ${s.tier ?? ''}: ${s.failed.join(', ')}`;
    const cells = [
      s.index + 1,
      s.phase,
      count(s.asked),
      count(s.sentPerSec, 1),
      ms(s.ackP50Ms),
      ms(s.ackP99Ms),
      s.lost === null ? '–' : count(s.lost),
      verdict,
      s.serverTier ?? '–',
    ];
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = String(c);
      if (i === 1 || i >= 7) td.className = 'left';
      if (i === 7 && !s.passed) td.className = 'left fail';
      tr.append(td);
    });
    return tr;
  });
  $('limit-steps').tBodies[0].replaceChildren(...rows);
}

function render(view) {
  $('limit-card').hidden = false;
  const c = view.current;
  $('limit-current').textContent = c
    ? `step ${c.step}: ${count(c.load)} ${view.unit} (${c.phase}), holding ${c.holdSec} s…`
    : view.done
      ? `done: ${view.steps.length} steps`
      : `${view.steps.length} steps`;
  const v = $('limit-verdict');
  v.hidden = !view.sentence;
  v.textContent = view.sentence ? `Verdict: ${view.sentence}` : '';
  chart(view);
  table(view);
}

async function poll() {
  let view;
  try {
    view = await (await fetch('/api/limit', { cache: 'no-store' })).json();
  } catch {
    // the lab has gone (search over): keep the last state on screen
    return;
  }
  if (!view?.active) return; // a plain run: nothing to show, no more polling
  render(view);
  if (!view.done) setTimeout(poll, 1000);
}

poll();
