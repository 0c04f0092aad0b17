/** One caller's place in line: `ready` once every earlier turn is done. */
export interface AppendTurn {
  readonly ready: Promise<void>;
  /** Lets the next turn go; calling it again changes nothing. */
  done(): void;
}

/**
 * Turns in the order they were taken, so work that runs side by side (mapping overlapping batches)
 * still reaches a shared step (the log's append) in the order it started. A turn done early still
 * lets the next one go only after every earlier turn is done.
 */
export class AppendTurns {
  private last: Promise<void> = Promise.resolve();

  take(): AppendTurn {
    const ready = this.last;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.last = ready.then(() => finished);
    return { ready, done };
  }
}
