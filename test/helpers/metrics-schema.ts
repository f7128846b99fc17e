// ajv validator for schemas/metrics.schema.json (strict mode, formats checked).
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

export const metricsSchema = JSON.parse(readFileSync(new URL('../../../schemas/metrics.schema.json', import.meta.url), 'utf8'));

export function metricsValidator() {
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(metricsSchema);
}
