// Interned key sets: a stored row records which keys it had as one small integer, so the history
// log costs 12 bytes per row however many keys a payload carries (the lab's has 11).
export class KeysetRegistry {
  private readonly byJoined = new Map<string, number>();
  readonly keys: string[][] = [];

  /** Id of the set of non-null keys of `values`, in payload order. */
  idOf(values: Record<string, unknown>): number {
    const ks: string[] = [];
    for (const k in values) if (values[k] !== null) ks.push(k);
    const joined = ks.join('\u0000');
    let id = this.byJoined.get(joined);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(ks);
      this.byJoined.set(joined, id);
    }
    return id;
  }

  /** True when `values` has exactly the non-null keys of set `id`, in the same order (no allocation). */
  matches(id: number, values: Record<string, unknown>): boolean {
    const ks = this.keys[id];
    let i = 0;
    for (const k in values) {
      if (values[k] === null) continue;
      if (ks[i] !== k) return false;
      i++;
    }
    return i === ks.length;
  }

  /** For each key set id: does it contain `key`? */
  containing(key: string): boolean[] {
    return this.keys.map((ks) => ks.includes(key));
  }
}
