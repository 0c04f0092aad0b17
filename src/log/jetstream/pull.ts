import { createInbox, type Msg, type MsgHdrs, type NatsConnection, nanos } from 'nats';

/** A message a pull delivered, with its place in the stream. */
export interface PulledMessage {
  readonly seq: number;
  /** When the stream stored it (ms since epoch). */
  readonly time: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
}

/**
 * How a pull ended. `full`: the batch was filled. `exhausted`: the consumer had nothing more to
 * deliver. `expired`: a waiting pull ran out its time. `lost`: the pull may have delivered
 * messages that were not received (aborted, no answer, consumer gone): the consumer's position
 * is no longer known, so it must be recreated from the last message received.
 */
export type PullEnd = 'full' | 'exhausted' | 'expired' | 'lost';

export interface PullRequest {
  readonly batch: number;
  /** Answer at once with what is there. Otherwise wait up to `expiresMs` for the batch. */
  readonly noWait: boolean;
  readonly expiresMs?: number;
}

/** Slack past a pull's own expiry before it counts as unanswered. */
const ANSWER_GRACE_MS = 2_000;
/** How long a no-wait pull may stay silent (reset by every message it delivers). */
const NO_WAIT_SILENCE_MS = 5_000;

/**
 * Stream sequence and timestamp from a JetStream delivery's reply subject:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>`, or the form with
 * `<domain>.<account hash>` after `$JS.ACK` (and a trailing token) that newer servers send.
 */
export function parseAckReply(reply: string): { seq: number; time: number } | null {
  const tokens = reply.split('.');
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK') return null;
  const offset = tokens.length === 9 ? 0 : tokens.length >= 11 ? 2 : -1;
  if (offset < 0) return null;
  const seq = Number(tokens[5 + offset]);
  const nanosSinceEpoch = tokens[7 + offset] ?? '';
  if (!Number.isSafeInteger(seq) || !/^\d+$/.test(nanosSinceEpoch)) return null;
  return { seq, time: Number(BigInt(nanosSinceEpoch) / 1_000_000n) };
}

/**
 * One pull request to a pull consumer, over a private inbox: resolves with the messages received
 * (in stream order) and how the pull ended. Never rejects for the ways a pull can end; rejects
 * only when the connection is closed.
 */
export function pull(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  request: PullRequest,
  signal?: AbortSignal,
): Promise<{ messages: PulledMessage[]; end: PullEnd }> {
  if (nc.isClosed()) return Promise.reject(new Error('the NATS connection is closed'));
  const messages: PulledMessage[] = [];
  if (signal?.aborted) return Promise.resolve({ messages, end: 'expired' });
  return new Promise((resolve) => {
    const inbox = createInbox();
    let settled = false;
    const finish = (end: PullEnd) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sub.unsubscribe();
      resolve({ messages, end });
    };
    const onMessage = (error: Error | null, msg: Msg) => {
      if (error) return finish('lost');
      const code = msg.headers?.code ?? 0;
      if (code !== 0 && msg.data.length === 0) {
        if (code === 100) return; // heartbeat / flow control
        if (code === 404) return finish('exhausted');
        // A no-wait pull that delivered part of its batch ends with 408, like an expired one.
        if (code === 408) return finish(request.noWait ? 'exhausted' : 'expired');
        return finish('lost'); // 409 (consumer deleted, leadership change...), 503 (no such consumer)
      }
      const at = parseAckReply(msg.reply ?? '');
      if (!at) return finish('lost');
      messages.push({
        seq: at.seq,
        time: at.time,
        subject: msg.subject,
        data: msg.data,
        headers: msg.headers,
      });
      if (messages.length >= request.batch) finish('full');
    };
    const sub = nc.subscribe(inbox, { callback: onMessage });
    const onAbort = () => finish('lost');
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => finish('lost'),
      request.noWait ? NO_WAIT_SILENCE_MS : (request.expiresMs ?? 0) + ANSWER_GRACE_MS,
    );
    const body: Record<string, unknown> = { batch: request.batch };
    if (request.noWait) body.no_wait = true;
    else body.expires = nanos(Math.max(1, request.expiresMs ?? 1));
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(body), { reply: inbox });
  });
}
