// The STAGES grammar (`30s:100%,2m:100%,30s:0%`): parsed here, in shared, because the config loader
// validates a scenario's stages and the engine runs them.
import { LabError } from './errors.js';

export interface Stage {
  durationSec: number;
  /** Target share of the fleet (0..1) or absolute device count. */
  target: { share: number } | { count: number };
}

const UNIT: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, '': 1 };

export function parseStages(spec: string): Stage[] {
  if (spec.trim() === '') return [];
  return spec.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)(ms|s|m|h|)\s*:\s*(\d+(?:\.\d+)?)(%?)\s*$/.exec(part);
    if (!m) {
      throw new LabError('CONFIG_INVALID', {
        message: `STAGES: cannot read ${JSON.stringify(part.trim())}`,
        hint: 'Expected duration:target items separated by commas, e.g. 30s:100%,2m:100%,30s:0% (target = share with % or a device count).',
      });
    }
    const durationSec = Number(m[1]) * UNIT[m[2]];
    const v = Number(m[3]);
    return { durationSec, target: m[4] ? { share: Math.min(1, v / 100) } : { count: v } };
  });
}

/**
 * A scenario file's STAGES array (`[{"duration": "30s", "target": "100%"}, …]`) as the STAGES
 * text, or what is wrong with it, naming the entry (`STAGES[2]`).
 */
export function stagesFromList(list: readonly unknown[]): { spec: string } | { problem: string } {
  const parts: string[] = [];
  for (const [i, s] of list.entries()) {
    const e = s as { duration?: unknown; target?: unknown } | null;
    const ok = (v: unknown) => (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v));
    if (typeof e !== 'object' || e === null || Array.isArray(e) || !ok(e.duration) || !ok(e.target)) {
      const want = '{"duration": "30s", "target": "100%"} (target a share with % or a device count)';
      return { problem: `STAGES[${i}] is ${JSON.stringify(s) ?? 'missing'}: expected ${want}` };
    }
    parts.push(`${e.duration as string | number}:${e.target as string | number}`);
  }
  const spec = parts.join(',');
  try {
    parseStages(spec);
  } catch (err) {
    return { problem: (err as Error).message };
  }
  return { spec };
}
