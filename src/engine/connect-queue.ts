// FIFO of rows waiting for a connect token: an array with a moving head, compacted now and then,
// so a fleet-wide reconnect does not shift the array per connect.

export class ConnectQueue {
  private readonly items: number[] = [];
  private head = 0;

  push(i: number): void {
    this.items.push(i);
  }

  empty(): boolean {
    return this.head >= this.items.length;
  }

  /** The oldest row (call only when not empty). */
  shift(): number {
    const i = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return i;
  }
}
