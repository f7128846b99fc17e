// `node dist/bench/profile-summary.js <file.cpuprofile> [top]`: where a `--cpu-prof` profile
// (npm run bench -- --cpu-prof) spent its time — self and inclusive shares per function.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarizeProfile(p: Profile, top = 25): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  const timeById = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, k) => {
    const dt = p.timeDeltas[k] ?? 0;
    timeById.set(id, (timeById.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, t] of timeById) {
    const key = name(byId.get(id)!);
    self.set(key, (self.get(key) ?? 0) + t);
    // a recursive function counts once per sample
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + t);
    }
  }
  const idle = [...self].filter(([k]) => k.startsWith('(idle) ')).reduce((a, [, t]) => a + t, 0);
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  return [
    `${(total / 1e6).toFixed(2)} s sampled, ${((100 * (total - idle)) / total).toFixed(1)} % busy`,
    '── self time',
    list(self),
    '── inclusive time',
    list(incl),
  ].join('\n');
}

if (process.argv[2]) {
  process.stdout.write(
    `${summarizeProfile(JSON.parse(readFileSync(process.argv[2], 'utf8')) as Profile, Number(process.argv[3] ?? 25))}\n`,
  );
}
