// Cleanup that runs in reverse order of setup (like Go's t.Cleanup): node's t.after runs hooks in
// the order they were added, so a temp dir made before a process would be removed while the
// process still writes into it. Every helper registers here; one t.after per test runs the stack.
import { after } from 'node:test';

/** What a helper needs from a test: a test context, or `fileScope` for things made at module level. */
export interface Scope {
  after(fn: () => unknown): void;
}

/**
 * For setup outside a test context: at the top of a file it is cleaned after all the file's tests;
 * inside a test (node's `after` attaches to the running test) when that test ends.
 */
export const fileScope: Scope = { after: (fn) => after(async () => void (await fn())) };

const stacks = new WeakMap<Scope, Array<() => unknown>>();

/** Runs `fn` when the test (or file) ends, before everything that was set up earlier. */
export function cleanup(t: Scope, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const s: Array<() => unknown> = [];
    stacks.set(t, s);
    t.after(async () => {
      // a later cleanup(t, …) starts a new stack (fileScope outlives one test's hooks)
      stacks.delete(t);
      const errors: unknown[] = [];
      while (s.length > 0) {
        try {
          await s.pop()!();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length > 0) throw errors[0];
    });
    stack = s;
  }
  stack.push(fn);
}
