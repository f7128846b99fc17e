// The delivery section in words, for the end of `tblab run` and `tblab report`: totals, the
// devices with loss (worst first), ingest latency and the rate-limit pattern.
import type { DeliveryReport } from './schema.js';

const n = (x: number) => x.toLocaleString('en-US');
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${Math.round(x)} ms`);

/** Devices named in the loss line before "… and N more". */
const NAMED = 10;

export function deliverySummary(d: DeliveryReport): string[] {
  const t = d.totals;
  const out: string[] = [];
  const how = { 'timeseries-count': 'REST read-back', 'emulator-stats': 'emulator record', both: 'REST read-back + emulator record' }[
    d.method
  ];
  if (d.error) out.push(`delivery: read-back failed (${d.error})`);
  else {
    const pct = t.sent ? ` (${((t.lost / t.sent) * 100).toFixed(2)} %)` : '';
    out.push(
      `delivery (${how}${d.crossCheck ? (d.crossCheck.agree ? ', both agree' : ', SOURCES DISAGREE') : ''}): sent ${n(t.sent)}, acked ${n(t.acked)}, stored ${n(t.stored)}, lost ${n(t.lost)}${pct}, duplicates ${n(t.duplicates)}, late ${n(t.late)}`,
    );
    if (t.unrecorded) out.push(`  unrecorded: ${n(t.unrecorded)} stored after a crashed shard's last records (never reported)`);
    if (t.ackedNotStored) out.push(`  acknowledged but not stored: ${n(t.ackedNotStored)} (PUBACK means "queued", not "saved")`);
    const lossy = d.devicesWithLoss ?? [];
    if (lossy.length) {
      const named = lossy.slice(0, NAMED).map((name) => {
        const dev = d.devices[name];
        const seqs = dev.lostSequences?.length
          ? `: ${dev.lostSequences.slice(0, 5).join(', ')}${dev.lostSequences.length > 5 ? ', …' : ''}`
          : '';
        return `${name} (${n(dev.lost)}${seqs})`;
      });
      const total = Object.values(d.devices).filter((x) => x.lost > 0).length;
      out.push(`  devices with loss (${n(total)}): ${named.join('; ')}${total > NAMED ? `; … and ${n(total - NAMED)} more` : ''}`);
    }
    for (const m of d.crossCheck?.mismatches ?? []) out.push(`  mismatch: ${m}`);
  }
  const l = d.ingestLatencyMs;
  if (l && l.count > 0) {
    out.push(
      `  ingest latency (WebSocket, ${d.latencySample?.devices ?? '?'} devices, ${n(l.count)} points): p50 ${ms(l.p50)}, p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`,
    );
  }
  const r = d.rateLimit;
  if (r && r.count) {
    out.push(
      `  rate limit (probable): ${n(r.count)} event(s) on ${n(r.devices?.length ?? 0)} device(s), first at ${r.firstAt ? new Date(r.firstAt).toISOString() : '-'}`,
    );
    if (r.pattern) out.push(`    ${r.pattern}`);
    if (r.advice) out.push(`    ${r.advice}`);
  }
  for (const note of d.notes) out.push(`  note: ${note}`);
  return out;
}
