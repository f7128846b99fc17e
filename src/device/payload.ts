// Telemetry payloads: what every payload source implements and how a shard picks one — the original
// lab's telemetry (payload-telemetry.ts, written as bytes on the hot path), a user template
// (payload-template.ts, PAYLOAD_TEMPLATE) or the telemetry extended by a template's fields (here).
import { readFileSync } from 'node:fs';
import { LabError } from '../common/errors.js';
import { putFixed2, putUint } from './payload-bytes.js';
import { ISSUE_NAMES, STATUS_NAMES, TELEMETRY_KEYS, TelemetryPayload } from './payload-telemetry.js';
import { TemplatePayload } from './payload-template.js';

export { putFixed2, putUint };
export { ISSUE_NAMES, STATUS_NAMES, TELEMETRY_KEYS, TelemetryPayload, TemplatePayload };

/** Builds the payload of message `seq` (1-based) of local device `i` at wall time `now` (ms). */
export interface PayloadSource {
  /** True when every payload is 7-bit ASCII (lets the encoder skip a UTF-8 length scan). */
  readonly ascii: boolean;
  next(i: number, seq: number, now: number): string;
  /**
   * Writes the same payload `next` would return, as UTF-8, into `buf` from `off`; returns the end
   * offset. `buf` must have `maxBytes` free from `off`. Absent when the source only builds strings.
   */
  writeTo?(buf: Buffer, off: number, i: number, seq: number, now: number): number;
  /** Upper bound of the bytes `writeTo` writes (with `writeTo`). */
  readonly maxBytes?: number;
}

export interface PayloadDevice {
  name: string;
  /** 1-based fleet index. */
  index: number;
}

/**
 * The default telemetry followed by a template's own fields (a template object with
 * `"$extends": "default"`). Not the hot path of the default payload: templates build strings.
 */
export class ExtendedPayload implements PayloadSource {
  readonly ascii: boolean;
  constructor(
    private readonly base: TelemetryPayload,
    private readonly extra: TemplatePayload,
  ) {
    this.ascii = base.ascii && extra.ascii;
  }

  next(i: number, seq: number, now: number): string {
    return `${this.base.next(i, seq, now).slice(0, -1)},${this.extra.next(i, seq, now).slice(1)}`;
  }
}

/** A template object with `"$extends": "default"` adds its fields to the default telemetry. */
function fromTemplate(template: unknown, devices: readonly PayloadDevice[], source: string): PayloadSource {
  if (typeof template !== 'object' || template === null || Array.isArray(template) || !('$extends' in template)) {
    return new TemplatePayload(template, devices, source);
  }
  const { $extends: base, ...fields } = template as Record<string, unknown>;
  const bad = (message: string) =>
    new LabError('CONFIG_INVALID', { message: `${source}: ${message}`, hint: 'See docs/original-habits.md, Payload.' });
  if (base !== 'default') throw bad(`"$extends" must be "default" (the built-in telemetry), not ${JSON.stringify(base)}`);
  const clash = Object.keys(fields).filter((k) => (TELEMETRY_KEYS as readonly string[]).includes(k));
  const names = clash.map((k) => `"${k}"`).join(', ');
  if (clash.length) throw bad(`${names} already in the default payload; drop "$extends" to replace it whole`);
  const telemetry = new TelemetryPayload(devices);
  return Object.keys(fields).length ? new ExtendedPayload(telemetry, new TemplatePayload(fields, devices, source)) : telemetry;
}

/** The payload source of a shard: the template file when given, else the original telemetry. */
export function createPayloadSource(devices: readonly PayloadDevice[], templateFile?: string): PayloadSource {
  if (!templateFile) return new TelemetryPayload(devices);
  let template: unknown;
  try {
    template = JSON.parse(readFileSync(templateFile, 'utf8'));
  } catch (e) {
    throw new LabError('CONFIG_FILE_UNREADABLE', {
      message: `PAYLOAD_TEMPLATE ${templateFile} is not readable JSON: ${(e as Error).message}`,
    });
  }
  return fromTemplate(template, devices, `PAYLOAD_TEMPLATE ${templateFile}`);
}
