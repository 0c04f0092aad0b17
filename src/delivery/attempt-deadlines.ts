import { EventEmitter } from 'node:events';

/**
 * What ends an attempt early. undici takes any EventEmitter with an `abort` event as a request's
 * signal; this one is far cheaper to make than an AbortController's signal (an EventTarget).
 */
export class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: 'timeout' | 'stopped' | null = null;

  constructor(
    readonly deadline: number,
    readonly stop: AbortSignal | undefined,
  ) {
    super();
  }

  abort(reason: 'timeout' | 'stopped'): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/**
 * The deadlines of one sink's attempts in flight. An attempt used to cost an AbortController, a
 * timer and a listener on the route's stop signal, which together took a tenth of a delivery's
 * time. Here attempts with the same timeout share one queue (their deadlines fall in the order
 * they started) and one timer set for the earliest; a stop signal gets one listener, however many
 * attempts it covers. Deadlines stay exact: the timer fires at the earliest one.
 */
export class AttemptDeadlines {
  private readonly queues = new Map<number, { attempts: Set<AttemptAbort>; timer: NodeJS.Timeout | null }>();
  private readonly watched = new WeakSet<AbortSignal>();

  /** An attempt that aborts after `timeoutMs` or when `stop` aborts; call `end` when it is over. */
  start(timeoutMs: number, stop: AbortSignal | undefined): AttemptAbort {
    const attempt = new AttemptAbort(performance.now() + timeoutMs, stop);
    if (stop?.aborted) {
      attempt.abort('stopped');
      return attempt;
    }
    if (stop && !this.watched.has(stop)) {
      this.watched.add(stop);
      stop.addEventListener('abort', () => this.stopAll(stop), { once: true });
    }
    let queue = this.queues.get(timeoutMs);
    if (!queue) {
      queue = { attempts: new Set(), timer: null };
      this.queues.set(timeoutMs, queue);
    }
    queue.attempts.add(attempt);
    if (queue.timer === null) this.arm(timeoutMs);
    return attempt;
  }

  end(attempt: AttemptAbort, timeoutMs: number): void {
    this.queues.get(timeoutMs)?.attempts.delete(attempt);
  }

  /** Sets the queue's timer for its earliest deadline (its first attempt), or drops an empty queue. */
  private arm(timeoutMs: number): void {
    const queue = this.queues.get(timeoutMs);
    if (!queue) return;
    const first = queue.attempts.values().next().value as AttemptAbort | undefined;
    if (first === undefined) {
      this.queues.delete(timeoutMs);
      return;
    }
    queue.timer = setTimeout(
      () => {
        queue.timer = null;
        const now = performance.now();
        for (const attempt of queue.attempts) {
          if (attempt.deadline > now) break;
          queue.attempts.delete(attempt);
          attempt.abort('timeout');
        }
        this.arm(timeoutMs);
      },
      Math.max(0, first.deadline - performance.now()),
    );
    // An attempt in flight keeps its socket, and so the process, alive; the timer need not.
    queue.timer.unref();
  }

  private stopAll(stop: AbortSignal): void {
    for (const queue of this.queues.values())
      for (const attempt of queue.attempts) {
        if (attempt.stop !== stop) continue;
        queue.attempts.delete(attempt);
        attempt.abort('stopped');
      }
  }

  /** Attempts in flight (for tests). */
  get size(): number {
    let size = 0;
    for (const queue of this.queues.values()) size += queue.attempts.size;
    return size;
  }
}
