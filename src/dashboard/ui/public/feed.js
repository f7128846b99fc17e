// Live data for the page: server-sent events from /api/stream, falling back to polling
// /api/metrics while the stream is down, and a stale flag when no new snapshot arrives in time.

/**
 * @param {{ refreshMs: number, onSnapshot: (s: object) => void, onFinal: (f: object) => void,
 *           onStatus: (st: { transport: 'stream'|'polling'|'down', stale: boolean, final: boolean, lastAt: string|null }) => void }} h
 */
export function startFeed(h) {
  const staleAfterMs = Math.max(3 * h.refreshMs, 5000);
  let transport = 'down';
  let lastAt = null;
  let lastChange = Date.now();
  let final = false;
  let es = null;
  let pollTimer = null;
  let retryStreamAt = 0;

  const status = () => h.onStatus({ transport, stale: !final && Date.now() - lastChange > staleAfterMs, final, lastAt });

  const accept = (snap) => {
    if (snap && snap.at !== lastAt) {
      lastAt = snap.at;
      lastChange = Date.now();
    }
    h.onSnapshot(snap);
    status();
  };

  const finish = (f) => {
    final = true;
    h.onFinal(f);
    status();
  };

  async function poll() {
    try {
      const res = await fetch('/api/metrics', { cache: 'no-store' });
      if (res.ok) accept(await res.json());
      if (!final) {
        const info = await (await fetch('/api/info', { cache: 'no-store' })).json();
        if (info.final) finish(info.final);
      }
      if (transport === 'down') transport = 'polling';
    } catch {
      transport = 'down';
    }
    status();
    // the stream is preferred: try it again every 10 s while polling
    if (!final && Date.now() >= retryStreamAt) openStream();
  }

  function startPolling() {
    if (pollTimer) return;
    transport = 'polling';
    pollTimer = setInterval(poll, h.refreshMs);
    poll();
  }

  function openStream() {
    if (es) return;
    es = new EventSource('/api/stream');
    es.addEventListener('open', () => {
      transport = 'stream';
      if (pollTimer) {
        clearInterval(pollTimer);
        pollTimer = null;
      }
      status();
    });
    es.addEventListener('snapshot', (e) => accept(JSON.parse(e.data)));
    es.addEventListener('final', (e) => finish(JSON.parse(e.data)));
    es.addEventListener('error', () => {
      es.close();
      es = null;
      retryStreamAt = Date.now() + 10_000;
      startPolling();
    });
  }

  openStream();
  setInterval(status, 1000);
}
