/**
 * Bounds concurrent deliveries of one lane across all its routes, so a bulk flood can use at
 * most the bulk lane's slots and never the critical lane's.
 */
export class LaneLimiter {
  private active = 0;
  // A queue read from `next`: every key of every route of the lane may wait here (tens of
  // thousands under fan-out), and Array#shift would copy them all on each release.
  private waiting: Array<(() => void) | undefined> = [];
  private next = 0;

  constructor(
    readonly name: string,
    readonly concurrency: number,
  ) {}

  get inUse(): number {
    return this.active;
  }

  /** Deliveries waiting for a slot. */
  get queued(): number {
    return this.waiting.length - this.next;
  }

  async acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    if (this.next < this.waiting.length) {
      const resume = this.waiting[this.next] as () => void;
      this.waiting[this.next++] = undefined;
      // Drop the consumed front once it is most of the array, so memory stays bounded.
      if (this.next > 1024 && this.next * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.next);
        this.next = 0;
      }
      resume(); // the slot passes straight to the next waiter
    } else this.active--;
  }
}
