import type { Clock } from '../../delivery/clock.js';

/**
 * Bounds how long the OPC UA stack may take to get a session back after a connection loss. The
 * stack reopens the channel, then reactivates the session (or opens a new one) and transfers or
 * re-creates its subscription; a server that refuses this in a way the stack meets by reopening
 * the channel again (hanging up on the reactivation, say) keeps it at that forever, with no value
 * arriving. The bound runs from the first reopened channel after a loss, not from the loss: a
 * server that is merely unreachable is the back-off's business, and one back after a long outage
 * still gets the chance to resume the session, with what it sampled meanwhile.
 */
export class ResumeWatchdog {
  private timer: AbortController | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly expired: () => void,
  ) {}

  /** Whether the stack is resuming within the bound now. */
  get running(): boolean {
    return this.timer !== null;
  }

  /** The channel is open again and the stack resumes the session: starts the bound unless it runs. */
  channelReopened(): void {
    if (this.timer) return;
    const timer = new AbortController();
    this.timer = timer;
    void this.clock.sleep(this.timeoutMs, timer.signal).then(() => {
      if (timer.signal.aborted) return;
      this.timer = null;
      this.expired();
    });
  }

  /** The session is back (or the connection is closing): the bound no longer applies. */
  stop(): void {
    this.timer?.abort();
    this.timer = null;
  }
}
