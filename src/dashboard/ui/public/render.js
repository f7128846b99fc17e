// Fills the status bar, cards and tables from a MetricsSnapshot (text only: no innerHTML, since
// device names and cause texts come from the run).
import { count, ms, mbps, megabytes, duration, percent, clock } from './format.js';

const $ = (id) => document.getElementById(id);
const ENDED = new Set(['finished', 'aborted', 'failed']);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** rows: [label, value, class?] → <dt>/<dd> pairs. */
function fillDl(dl, rows) {
  dl.replaceChildren(...rows.flatMap(([k, v, cls]) => [el('dt', k), el('dd', v, cls)]));
}

function fillRows(tbody, rows) {
  tbody.replaceChildren(
    ...rows.map((cells) => {
      const tr = el('tr');
      for (const [text, cls] of cells) tr.append(el('td', text, cls));
      tr.firstChild.title = cells[0][0]; // names and causes may be cut with an ellipsis
      return tr;
    }),
  );
}

export function renderStatus(s) {
  $('run-id').textContent = s.instance ? `${s.runId} · instance ${s.instance}` : s.runId;
  const state = $('st-state');
  state.textContent = s.state;
  state.className = `pill ${s.state}`;
  $('st-elapsed').textContent = duration(s.elapsedSec);
  // once the run has ended the last second's rate means little: show the run's averages
  const ended = ENDED.has(s.state) && s.elapsedSec > 0;
  $('st-rate-label').textContent = ended ? 'avg msg/s' : 'msg/s';
  $('st-mbps-label').textContent = ended ? 'avg bandwidth' : 'bandwidth';
  $('st-rate').textContent = count(ended ? s.traffic.sent / s.elapsedSec : s.traffic.sentPerSec, 1);
  $('st-mbps').textContent = mbps(ended ? (s.traffic.bytesSent * 8) / 1e6 / s.elapsedSec : s.traffic.mbpsOut);
  $('st-connected').textContent = `${count(s.connections.connected)} / ${count(s.connections.configured)}`;
}

export function renderCards(s) {
  const c = s.connections;
  const shardsUp = s.shards.filter((x) => x.state === 'running').length;
  const crashed = s.shards.filter((x) => x.state === 'crashed').length;
  fillDl($('card-connections'), [
    ['configured', count(c.configured)],
    ['connected now', count(c.connected), c.connected > 0 ? 'ok' : undefined],
    ['peak', count(c.peakConnected)],
    ['failed devices', count(c.failedDevices), c.failedDevices > 0 ? 'bad' : undefined],
    ['paused', count(c.paused)],
    ['connect attempts', `${count(c.attempts)} (${count(c.failed)} failed)`, c.failed > 0 ? 'warn' : undefined],
    [
      'collapse',
      s.collapse ? `at ${duration(s.collapse.elapsedSec)} · ${s.collapse.dominantCause}` : 'none',
      s.collapse ? 'bad' : undefined,
    ],
    ['shards', `${shardsUp}/${s.shards.length} running${crashed ? `, ${crashed} crashed` : ''}`, crashed ? 'bad' : undefined],
  ]);

  const t = s.traffic;
  fillDl($('card-traffic'), [
    ['sent', count(t.sent)],
    ['acked', count(t.acked)],
    ['failed', count(t.failed), t.failed > 0 ? 'bad' : undefined],
    ['in flight', count(t.inFlight)],
    ['skipped', count(t.skipped), t.skipped > 0 ? 'warn' : undefined],
    ['volume', megabytes(t.bytesSent)],
    ['avg msgs / device', count(t.avgSentPerDevice, 1)],
    ['avg rate / device', `${count(t.avgRatePerDevice, 2)} msg/s`],
  ]);

  const lat = [
    ['publish → ack', s.latency.ackMs],
    ['connect', s.latency.connectMs],
    ['schedule lag', s.latency.scheduleLagMs],
  ];
  fillRows(
    $('card-latency').tBodies[0],
    lat.map(([name, p]) => [[name], [ms(p.p50)], [ms(p.p95)], [ms(p.p99)], [ms(p.max)]]),
  );
  const g = s.generator;
  fillDl($('card-generator'), [
    ['generator', g.verdict, g.verdict === 'ok' ? 'ok' : g.verdict === 'lagging' ? 'warn' : 'bad'],
    ['event loop p99', ms(g.eventLoopDelayP99Ms)],
    ['CPU', percent(g.cpuPercent)],
    ['memory (RSS)', `${count(g.rssMB)} MB`],
  ]);
  $('generator-notes').replaceChildren(...g.notes.map((n) => el('li', n)));

  const causes = Object.entries(s.disconnects.byCause)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10);
  $('disc-total').textContent = s.disconnects.total > 0 ? `· ${count(s.disconnects.total)}` : '';
  fillRows(
    $('card-causes').tBodies[0],
    causes.map(([cause, n]) => [[cause], [count(n)]]),
  );
  $('causes-empty').hidden = causes.length > 0;

  const d = s.delivery;
  $('delivery-card').hidden = !d;
  if (d) {
    fillDl($('card-delivery'), [
      ['sample devices', count(d.sampleDevices)],
      ['ingest latency p50', ms(d.ingestLatencyMs.p50)],
      ['ingest latency p99', ms(d.ingestLatencyMs.p99)],
      ...(d.stored !== undefined ? [['stored', count(d.stored)]] : []),
      ...(d.pending !== undefined ? [['acked, not yet stored', count(d.pending), d.pending > 0 ? 'warn' : undefined]] : []),
      ...(d.lost !== undefined ? [['lost', count(d.lost), d.lost > 0 ? 'bad' : 'ok']] : []),
      ...(d.duplicates !== undefined ? [['duplicates', count(d.duplicates), d.duplicates > 0 ? 'warn' : undefined]] : []),
      ...(d.rateLimitEvents !== undefined
        ? [['rate-limit events', count(d.rateLimitEvents), d.rateLimitEvents > 0 ? 'bad' : undefined]]
        : []),
    ]);
  }

  $('footer').textContent =
    `target ${s.target.mqtt} · MQTT ${s.target.mqttVersion} QoS ${s.target.qos} · every ${s.target.publishIntervalSec} s · started ${clock(s.startedAt)} · snapshot ${clock(s.at)}`;
}

/** One row per MQTT endpoint (MQTT_ENDPOINTS); hidden with one endpoint, where the cards say it all. */
export function renderEndpoints(s) {
  const list = s.endpoints ?? []; // absent in reports of metrics schema 1
  $('endpoints-card').hidden = list.length < 2;
  if (list.length < 2) return;
  const ended = ENDED.has(s.state);
  $('endpoints-count').textContent = `· ${list.length}, device i on endpoint (i − 1) mod ${list.length}`;
  fillRows(
    $('card-endpoints').tBodies[0],
    list.map((e) => {
      const top = Object.entries(e.disconnects.byCause).sort((a, b) => b[1] - a[1])[0];
      const down = !ended && e.connected < e.devices;
      return [
        [e.endpoint],
        [count(e.devices)],
        [count(e.connected), down ? 'warn' : undefined],
        [count(e.attempts)],
        [count(e.failed), e.failed > 0 ? 'bad' : undefined],
        [ms(e.connectMs.p50)],
        [ms(e.connectMs.p99)],
        [count(e.disconnects.total), e.disconnects.total > 0 ? 'bad' : undefined],
        [top ? `${top[0]} (${count(top[1])})` : '–', 'left'],
      ];
    }),
  );
}

export function renderDevices(s, filter) {
  const f = filter.trim().toLowerCase();
  // after the run every device is disconnected on purpose: not an alarm
  const ended = ENDED.has(s.state);
  const rows = s.topDevices.filter((d) => !f || d.name.toLowerCase().includes(f));
  fillRows(
    $('devices').tBodies[0],
    rows.map((d) => [
      [d.name],
      ended ? ['ended', 'muted'] : [d.paused ? 'paused' : d.connected ? 'connected' : 'down', d.connected || d.paused ? undefined : 'bad'],
      [count(d.sent)],
      [count(d.acked)],
      [count(d.failed), d.failed > 0 ? 'bad' : undefined],
      [count(d.disconnects), d.disconnects > 0 ? 'bad' : undefined],
    ]),
  );
  $('devices-empty').hidden = rows.length > 0;
}
