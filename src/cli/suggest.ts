// "Did you mean": commander's usage errors with the nearest known command anywhere in the tree
// (`tblab activate` → `tblab devices activate`) and the Python lab's flags explained.
import type { Command } from 'commander';
import { nearest } from '../common/nearest.js';
import { originalFlagHint } from './original-flags.js';

/** Every command path under `program`, e.g. ['run', 'devices activate', 'report merge']. */
function commandPaths(cmd: Command, prefix = ''): string[] {
  return cmd.commands.flatMap((c) => {
    const path = prefix + c.name();
    return [path, ...commandPaths(c, path + ' ')];
  });
}

/** The known command nearest to `word`: one whose last word is `word` (or a near miss of it), else a near miss of a top-level one. */
export function nearestCommand(program: Command, word: string, under = ''): string | null {
  const paths = commandPaths(program).filter((p) => p.startsWith(under) && p !== under.trim());
  const last = (p: string) => p.slice(p.lastIndexOf(' ') + 1);
  const exact = paths.find((p) => last(p) === word);
  if (exact) return exact;
  const near = nearest(word, new Set(paths.map(last)));
  return near ? (paths.find((p) => last(p) === near) ?? null) : null;
}

/** Commander's error text made more helpful; other text unchanged. */
export function explainUsageError(program: Command, text: string): string {
  const unknown = /^error: unknown command '([^']+)'/.exec(text);
  if (unknown) {
    const path = nearestCommand(program, unknown[1]);
    return `error: unknown command '${unknown[1]}'${path ? `; did you mean \`tblab ${path}\`?` : ''}\n`;
  }
  const hint = originalFlagHint(text);
  return hint ? `${text.replace(/\n$/, '')}\n${hint}\n` : text;
}
