// The `server` section of a merged report. Instances of one fleet read the same ThingsBoard, so their
// server series are the same counters read at other moments; each verdict, though, weighed that server
// against one instance's share of the load. The series are therefore not merged (re-judging would need
// every instance's sends on one clock); the merged section keeps each instance's verdict, named by its
// instance, and the tier they agree on (`unknown` when they differ). Instance reports keep the series.
import type { ServerSection } from './schema.js';

export function mergeServer(parts: ReadonlyArray<{ label: string; server: ServerSection | null | undefined }>): ServerSection | null {
  const judged = parts.filter((p): p is { label: string; server: ServerSection } => !!p.server?.verdict);
  if (judged.length === 0) return null;
  const tiers = new Set(judged.map((p) => p.server.verdict.tier));
  const tier = tiers.size === 1 && judged.length === parts.length ? [...tiers][0] : 'unknown';
  const firsts = judged.map((p) => p.server.verdict.firstAt).filter((t): t is number => t !== null);
  const notVisible = [
    'series: not merged (each instance report keeps the series it read; instances read the same server counters)',
    ...parts.filter((p) => !p.server?.verdict).map((p) => `${p.label}: no server statistics in this instance's report`),
    ...[...new Set(judged.flatMap((p) => p.server.notVisible ?? []))],
  ];
  return {
    series: [],
    notVisible,
    verdict: {
      tier,
      evidence: judged.flatMap((p) => [
        `${p.label}: ${p.server.verdict.tier}`,
        ...p.server.verdict.evidence.map((e) => `${p.label}:   ${e}`),
      ]),
      firstAt: tier === 'none' || tier === 'unknown' || firsts.length === 0 ? null : Math.min(...firsts),
    },
  };
}
