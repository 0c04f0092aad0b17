/**
 * Bounds concurrent deliveries of one lane across all its routes, so a bulk flood can use at
 * most the bulk lane's slots and never the critical lane's.
 */
export class LaneLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly concurrency: number,
  ) {}

  get inUse(): number {
    return this.active;
  }

  async acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
