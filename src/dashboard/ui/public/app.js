// Page bootstrap: wires the feed (SSE or polling) to the cards, tables and charts.
import { startFeed } from './feed.js';
import { createCharts } from './charts.js';
import { createServerView } from './server.js';
import { createWorkloadsView } from './workloads.js';
import { renderStatus, renderCards, renderDevices, renderEndpoints } from './render.js';
import { clock } from './format.js';

const $ = (id) => document.getElementById(id);
let latest = null;
let finalInfo = null;

function banner(text, cls) {
  const b = $('banner');
  b.hidden = !text;
  b.textContent = text || '';
  b.className = `banner ${cls || ''}`;
}

function showBanners(stale) {
  if (finalInfo) {
    banner(
      `Run ended: ${finalInfo.outcome}${finalInfo.endReason ? ` — ${finalInfo.endReason}` : ''}${finalInfo.endedAt ? ` (${clock(finalInfo.endedAt)})` : ''}. Showing the final state.`,
      'final',
    );
  } else if (stale) {
    banner('Data is stale: no new snapshot from the lab recently. The run may be stuck or the connection lost.', 'stale');
  } else if (latest?.collapse) {
    const c = latest.collapse;
    banner(
      `Collapse detected at ${clock(c.at)}: ${c.kind === 'acks' ? 'acks stopped' : `connections fell to ${c.connectedAtCollapse} of peak ${c.peakConnected}`} — dominant cause: ${c.dominantCause}`,
      '',
    );
  } else {
    banner('');
  }
}

async function main() {
  const info = await (await fetch('/api/info', { cache: 'no-store' })).json();
  $('run-id').textContent = info.runId || '';
  if (info.mode === 'report') document.title = `tb-load-lab · report ${info.runId}`;
  const updateCharts = createCharts();
  const updateServer = createServerView();
  const updateWorkloads = createWorkloadsView();
  const filter = $('device-filter');
  filter.addEventListener('input', () => latest && renderDevices(latest, filter.value));

  startFeed({
    refreshMs: info.refreshMs,
    onSnapshot(s) {
      latest = s;
      renderStatus(s);
      renderCards(s);
      renderEndpoints(s);
      renderDevices(s, filter.value);
      updateCharts(s.series);
      updateServer(s);
      updateWorkloads(s);
    },
    onFinal(f) {
      finalInfo = f;
    },
    onStatus(st) {
      const dot = $('feed-dot');
      const text = $('feed-text');
      if (st.final) {
        dot.className = 'dot final';
        text.textContent = info.mode === 'report' ? 'stored report' : 'run ended';
      } else {
        dot.className = `dot ${st.stale || st.transport === 'down' ? 'stale' : 'live'}`;
        text.textContent = `${st.transport === 'stream' ? 'live' : st.transport === 'polling' ? 'polling' : 'disconnected'}${st.stale ? ' · stale' : ''}${st.lastAt ? ` · ${clock(st.lastAt)}` : ''}`;
      }
      showBanners(st.stale);
    },
  });
}

main();
