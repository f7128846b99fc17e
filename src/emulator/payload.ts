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

function toRow(item: unknown, now: number): TelemetryRow {
  if (!isObject(item)) throw new PayloadError('Telemetry entry is not a JSON object');
  if ('ts' in item && 'values' in item) {
    const ts = Number(item.ts);
    if (!Number.isFinite(ts)) throw new PayloadError(`Invalid ts: ${JSON.stringify(item.ts)}`);
    if (!isObject(item.values)) throw new PayloadError('"values" is not a JSON object');
    return { ts, values: item.values };
  }
  return { ts: now, values: item };
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
  return json;
}
