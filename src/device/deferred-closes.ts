// `closed` reports a workload owes the shard but may not make yet: the shard must never hear back
// synchronously from inside one of its own calls (src/device/workload.ts), so a row that ends
// there is queued and reported on the next turn of the event loop, all queued rows at once.
import type { Cause, ErrorKind } from './causes.js';
import type { WorkloadHost } from './workload.js';

export class DeferredCloses {
  private readonly rows: number[] = [];
  private readonly causes: Array<Cause | null> = [];
  private readonly kinds: Array<ErrorKind | null> = [];
  private queued = false;
  private readonly report = () => this.flush();

  constructor(private readonly host: WorkloadHost) {}

  push(i: number, cause: Cause | null, kind: ErrorKind | null): void {
    this.rows.push(i);
    this.causes.push(cause);
    this.kinds.push(kind);
    if (this.queued) return;
    this.queued = true;
    setImmediate(this.report);
  }

  private flush(): void {
    this.queued = false;
    for (let k = 0; k < this.rows.length; k++) this.host.closed(this.rows[k], this.causes[k], this.kinds[k]);
    this.rows.length = this.causes.length = this.kinds.length = 0;
  }
}
