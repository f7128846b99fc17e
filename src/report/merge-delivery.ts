// Merges the delivery checks of N instance reports: totals summed, per-device rows united
// (a device checked by two instances means the slices overlapped), rate-limit evidence combined.
import type { DeliveryReport, DeliveryDevice } from './schema.js';
import type { Percentiles } from '../metrics/snapshot.js';
import { sumMaps } from './merge-metrics.js';

export interface DeliveryInput {
  label: string;
  delivery: DeliveryReport | null;
}

/** Unites keyed per-device records; `onDuplicate` decides what a device seen twice means. */
export function uniteRecords<R>(
  parts: ReadonlyArray<{ label: string; records: Record<string, R> }>,
  onDuplicate: (name: string, first: string, second: string) => never,
): Record<string, R> {
  const out: Record<string, R> = {};
  const owner = new Map<string, string>();
  for (const p of parts) {
    for (const [name, r] of Object.entries(p.records)) {
      const prev = owner.get(name);
      if (prev !== undefined) onDuplicate(name, prev, p.label);
      owner.set(name, p.label);
      out[name] = r;
    }
  }
  return out;
}

export function mergeDelivery(
  inputs: readonly DeliveryInput[],
  ingestLatencyMs: Percentiles | null,
  onDuplicate: (name: string, first: string, second: string) => never,
): DeliveryReport | null {
  const present = inputs.filter((i): i is { label: string; delivery: DeliveryReport } => i.delivery !== null);
  if (present.length === 0) return null;
  const d = present.map((p) => p.delivery);
  const methods = new Set(d.map((x) => x.method));
  const notes = present.flatMap((p) => p.delivery.notes.map((n) => `${p.label}: ${n}`));
  if (present.length < inputs.length) {
    notes.push(`delivery was checked on ${present.map((p) => p.label).join(', ')} only (${present.length} of ${inputs.length} instances)`);
  }
  const totals = sumMaps(d.map((x) => x.totals)) as DeliveryReport['totals'];
  const limited = d.map((x) => x.rateLimit).filter((r): r is NonNullable<DeliveryReport['rateLimit']> => r !== undefined);
  const firstAts = limited.map((r) => r.firstAt).filter((x): x is number => x !== null);
  return {
    method: methods.size === 1 ? d[0].method : 'both',
    checkedAt: d
      .map((x) => x.checkedAt)
      .sort()
      .at(-1)!,
    totals,
    devices: uniteRecords<DeliveryDevice>(
      present.map((p) => ({ label: p.label, records: p.delivery.devices })),
      onDuplicate,
    ),
    ...(ingestLatencyMs ? { ingestLatencyMs } : {}),
    ...(limited.length
      ? {
          rateLimit: {
            events: limited.flatMap((r) => r.events).sort((a, b) => a.at - b.at),
            pattern: limited.find((r) => r.pattern !== null)?.pattern ?? null,
            firstAt: firstAts.length ? Math.min(...firstAts) : null,
            advice: limited.find((r) => r.advice !== null)?.advice ?? null,
          },
        }
      : {}),
    notes,
  };
}
