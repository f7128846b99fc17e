// Number formatting for the dashboard: counts with k/M, latencies in ms/s, durations h:mm:ss.
const dash = '–';
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/** 1234 → "1.23k", 2500000 → "2.50M"; small numbers keep up to `digits` decimals. */
export function count(v, digits = 0) {
  if (!isNum(v)) return dash;
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  if (a >= 1e3) return (v / 1e3).toFixed(2) + 'k';
  return digits > 0 && !Number.isInteger(v) ? v.toFixed(digits) : String(Math.round(v));
}

/** Milliseconds with sensible precision; seconds past 10 s. */
export function ms(v) {
  if (!isNum(v)) return dash;
  if (v >= 10_000) return (v / 1000).toFixed(1) + ' s';
  if (v >= 100) return Math.round(v) + ' ms';
  if (v >= 10) return v.toFixed(1) + ' ms';
  return v.toFixed(2) + ' ms';
}

export function mbps(v) {
  if (!isNum(v)) return dash;
  return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' Mbps';
}

export function megabytes(bytes) {
  if (!isNum(bytes)) return dash;
  const mb = bytes / (1024 * 1024);
  return mb >= 1024 ? (mb / 1024).toFixed(2) + ' GB' : (mb >= 100 ? mb.toFixed(0) : mb.toFixed(2)) + ' MB';
}

/** 3725 → "1:02:05", 65 → "1:05". */
export function duration(sec) {
  if (!isNum(sec)) return dash;
  const s = Math.max(0, Math.floor(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function percent(v) {
  return isNum(v) ? v.toFixed(v >= 10 ? 0 : 1) + ' %' : dash;
}

export function clock(iso) {
  if (!iso) return dash;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? dash : d.toLocaleTimeString();
}
