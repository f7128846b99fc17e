// A fixed number of async workers over a list of jobs: bounded concurrency for REST fan-out.
// The first failure stops new jobs from starting; jobs in flight finish, then it is rethrown.

/** Runs `work(0..total-1)` with at most `concurrency` in flight; stops early when `stopped()` turns true. */
export async function runPool(
  total: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
  stopped: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (!failed && !stopped() && next < total) {
      const i = next++;
      try {
        await work(i);
      } catch (e) {
        if (!failed) {
          failed = true;
          firstError = e;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, total)) }, worker));
  if (failed) throw firstError;
}
