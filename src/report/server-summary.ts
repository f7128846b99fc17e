// The report's `server` section in words, for `tblab report` and the end of `tblab run`: the tier
// that fell behind first, each clause of its evidence (naming its series), and what was not visible.
import type { ServerSection } from './schema.js';

export const TIER_WORDS: Record<ServerSection['verdict']['tier'], string> = {
  transport: 'the transport fell behind first',
  'rule-engine': 'the rule engine fell behind first',
  storage: 'storage fell behind first',
  'rate-limit': 'transport rate limits cut the devices off',
  host: 'the host ran out of CPU or memory first',
  none: 'no tier fell behind',
  unknown: 'not enough visibility to say which tier fell behind',
};

export function serverSummary(s: ServerSection): string[] {
  const v = s.verdict;
  const out = [`verdict: ${v.tier} — ${TIER_WORDS[v.tier] ?? v.tier}`];
  for (const e of v.evidence ?? []) out.push(`  ${e}`);
  const read = (s.series ?? []).filter((x) => !x.name.startsWith('lab.'));
  const groups = new Map<string, number>();
  for (const x of read) groups.set(x.name.split('.')[0], (groups.get(x.name.split('.')[0]) ?? 0) + 1);
  out.push(`read: ${groups.size ? [...groups].map(([g, k]) => `${g} (${k} series)`).join(', ') : 'no ThingsBoard series'}`);
  for (const l of s.notVisible ?? []) out.push(`not visible: ${l}`);
  return out;
}
