import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from 'nats';

/** What JetStream answers a stored (or recognised) publish with. */
export interface PubAck {
  readonly seq: number;
  readonly duplicate: boolean;
}

/**
 * Why a publish failed, shaped as the client library's errors are (`code`, and `api_error` for
 * JetStream's own answers), so the same checks tell whether a retry can help.
 */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly api_error?: { readonly code: number; readonly err_code?: number; readonly description?: string },
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

interface Waiter {
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
}

const decoder = new TextDecoder();

/** The acknowledgement in a PubAck message, or why there is none. */
export function readAck(msg: Pick<Msg, 'data' | 'headers'>): PubAck | PublishError {
  const status = msg.headers?.code ?? 0;
  if (status !== 0 && msg.data.length === 0) {
    // 503: no stream answers on the subject (none there, or no leader right now).
    return new PublishError(`publish answered ${status}`, String(status));
  }
  try {
    const ack = JSON.parse(decoder.decode(msg.data)) as {
      seq?: unknown;
      duplicate?: unknown;
      error?: { code: number; err_code?: number; description?: string };
    };
    if (ack.error) {
      const description = ack.error.description ?? 'publish refused';
      return new PublishError(description, String(ack.error.code), ack.error);
    }
    if (typeof ack.seq !== 'number') throw new Error('no sequence');
    return { seq: ack.seq, duplicate: ack.duplicate === true };
  } catch (cause) {
    return new PublishError(`unreadable publish acknowledgement (${String(cause)})`, 'BAD_ACK');
  }
}

/** A publish waiting for the end of the event loop's turn. */
interface Outgoing {
  readonly token: string;
  readonly subject: string;
  readonly data: string | Uint8Array;
  readonly headers: MsgHdrs | undefined;
}

/**
 * Pipelined JetStream publishes: every PubAck comes back on one inbox subscription, matched by
 * the reply subject's last token, and one timer serves every deadline. The client library's own
 * `publish` costs several times as much CPU per message (a request, a timer and two error objects
 * each), which on a busy host halves what a log appends.
 *
 * Publishes go out together at the end of the event loop's turn: the client writes its socket
 * once per run of microtasks, so publishes made by separate requests would each cost a write
 * (on loopback the server's side of it runs inside that write), the largest cost of a hub taking
 * single events.
 */
export class JetStreamPublisher {
  private readonly inbox = createInbox();
  /** In publishing order, so their deadlines are in order too. */
  private readonly waiting = new Map<string, Waiter>();
  /** Publishes of this turn, in call order. */
  private outgoing: Outgoing[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly answerMs: number,
  ) {
    nc.subscribe(`${this.inbox}.*`, { callback: (error, msg) => this.answer(error, msg) });
    void nc
      .closed()
      .then(() => this.failAll(new PublishError('the NATS connection is closed', 'CONNECTION_CLOSED')));
  }

  /**
   * Publishes at the end of this turn of the event loop (in call order, with the turn's other
   * publishes) and resolves with JetStream's acknowledgement.
   */
  publish(subject: string, data: string | Uint8Array, headers?: MsgHdrs): Promise<PubAck> {
    if (this.nc.isClosed())
      return Promise.reject(new PublishError('the NATS connection is closed', 'CONNECTION_CLOSED'));
    const token = (++this.next).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + this.answerMs });
      this.outgoing.push({ token, subject, data, headers });
      if (this.outgoing.length === 1) setImmediate(() => this.send());
      this.timer ??= setTimeout(() => this.expire(), this.answerMs);
    });
  }

  /** Hands the turn's publishes to the client at once: it writes them to the socket together. */
  private send(): void {
    const outgoing = this.outgoing;
    this.outgoing = [];
    for (const { token, subject, data, headers } of outgoing) {
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers });
      } catch (error) {
        // Closed or draining meanwhile: nothing of this one was sent.
        const waiter = this.waiting.get(token);
        this.waiting.delete(token);
        waiter?.reject(
          new PublishError(`publishing failed: ${(error as Error).message}`, 'CONNECTION_CLOSED'),
        );
      }
    }
  }

  private answer(error: Error | null, msg: Msg): void {
    if (error) {
      this.failAll(error);
      return;
    }
    const token = msg.subject.slice(this.inbox.length + 1);
    const waiter = this.waiting.get(token);
    if (!waiter) return; // answered after its deadline
    this.waiting.delete(token);
    const outcome = readAck(msg);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  /** Fails the publishes past their deadline (the oldest come first) and waits for the next one. */
  private expire(): void {
    this.timer = null;
    const now = Date.now();
    for (const [token, waiter] of this.waiting) {
      if (waiter.deadline > now) {
        this.timer = setTimeout(() => this.expire(), waiter.deadline - now);
        return;
      }
      this.waiting.delete(token);
      waiter.reject(new PublishError('no publish acknowledgement in time', 'TIMEOUT'));
    }
  }

  private failAll(error: Error): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const waiters = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiter of waiters) waiter.reject(error);
  }
}
