// Query-string conversions as Spring MVC does them for ThingsBoard's controllers.
import { ApiError } from '../model.js';

const TRUE = new Set(['true', 'on', 'yes', '1']);
const FALSE = new Set(['false', 'off', 'no', '0']);

/**
 * A `@RequestParam` Boolean/boolean, converted like Spring's StringToBooleanConverter (trimmed,
 * case-insensitive: `True` from ThingsBoard's Python REST client is true). Absent or empty → `def`
 * (the `defaultValue`, or null for an optional `Boolean`); anything else → 400 as Spring's type mismatch.
 */
export function boolParam<D extends boolean | null>(q: object, name: string, def: D): boolean | D {
  const raw = (q as Record<string, unknown>)[name];
  if (typeof raw !== 'string') return def;
  const v = raw.trim().toLowerCase();
  if (v === '') return def;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  const type = def === null ? 'java.lang.Boolean' : 'boolean';
  const message = `Failed to convert value of type 'java.lang.String' to required type '${type}'; Invalid boolean value '${raw}'`;
  throw new ApiError(400, 31, message);
}
