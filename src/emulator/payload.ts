// ThingsBoard's telemetry and attribute payload forms (JsonConverter): an object (server time),
// `{ts, values}` (only when both are present), or an array mixing both. Shared by MQTT and HTTP.

/** One stored row: a timestamp and its key/values (null values are skipped when stored). */
export interface TelemetryRow {
  ts: number;
  values: Record<string, unknown>;
}

export class PayloadError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// NumberUtils.isParsable (commons-lang3): optional '-', digits with at most one '.', not ending in '.'; no exponent
const PARSABLE = /^-?(?:\d+(?:\.\d+)?|\.\d+)$/;

/**
 * JsonConverter.parseValues with `type_cast_enabled` (ThingsBoard's default): a string that parses as a number
 * is stored as one (buildNumericKeyValueProto: an integer as a long, a decimal with ≤ 16 places as a double);
 * integers outside the safe range of a JS number and longer decimals stay strings.
 */
export function typeCast(s: string): unknown {
  const n0 = s.length;
  if (n0 === 0 || n0 > 40) return s;
  // cheap rejection first (ISO timestamps end in 'Z', names start with a letter): ingest runs this per value
  const last = s.charCodeAt(n0 - 1);
  const first = s.charCodeAt(0);
  if (last < 48 || last > 57 || ((first < 48 || first > 57) && first !== 45 && first !== 46)) return s;
  if (!PARSABLE.test(s)) return s;
  const dot = s.indexOf('.');
  if (dot >= 0) return s.length - dot - 1 <= 16 ? Number(s) : s;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

/** Applies typeCast to every top-level string value, in place. */
export function castValues(values: Record<string, unknown>): Record<string, unknown> {
  for (const k in values) {
    const v = values[k];
    if (typeof v === 'string') {
      const c = typeCast(v);
      if (c !== v) values[k] = c;
    }
  }
  return values;
}

function toRow(item: unknown, now: number): TelemetryRow {
  if (!isObject(item)) throw new PayloadError('Telemetry entry is not a JSON object');
  if ('ts' in item && 'values' in item) {
    const ts = Number(item.ts);
    if (!Number.isFinite(ts)) throw new PayloadError(`Invalid ts: ${JSON.stringify(item.ts)}`);
    if (!isObject(item.values)) throw new PayloadError('"values" is not a JSON object');
    return { ts, values: castValues(item.values) };
  }
  return { ts: now, values: castValues(item) };
}

/** Parses a telemetry payload into rows; throws PayloadError (with the parser's message) if invalid. */
export function parseTelemetry(text: string, now: number): TelemetryRow[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PayloadError((e as Error).message);
  }
  if (Array.isArray(json)) return json.map((item) => toRow(item, now));
  return [toRow(json, now)];
}

/** Parses an attributes payload: must be a JSON object. */
export function parseAttributes(text: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PayloadError((e as Error).message);
  }
  if (!isObject(json)) throw new PayloadError('Attributes payload is not a JSON object');
  return castValues(json);
}
