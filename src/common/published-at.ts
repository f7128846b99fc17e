// The payload's `timestamp` key back as epoch ms, whichever form the payload used: the default
// telemetry sends ISO-8601 UTC text, a template's `{{timestamp}}` sends epoch ms.

/** Epoch ms of a stored `timestamp` value (number, numeric text or ISO-8601 text); NaN otherwise. */
export function publishedAtMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v.trim() === '') return NaN;
  const n = Number(v);
  return Number.isFinite(n) ? n : Date.parse(v);
}
