import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import { eventSubject, idempotencyKey } from '../../src/log/jetstream/subjects.js';
import type { CloudEvent } from '../../src/model/envelope.js';

/** Runs `fn` with a NATS connection of its own, closed afterwards. */
export async function withNats<T>(
  urls: readonly string[],
  fn: (nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const nc = await connect({ servers: [...urls] });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/**
 * Waits until JetStream's duplicate window no longer holds the event's message id: a publish with
 * that id and an expectation that cannot hold is answered "duplicate" while the window holds it,
 * and refused (so nothing is stored) once it has forgotten it.
 */
export async function untilWindowForgets(
  nc: NatsConnection,
  stream: string,
  event: CloudEvent,
): Promise<void> {
  const js = nc.jetstream();
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const ack = await js.publish(eventSubject(stream, event), '{}', {
        msgID: idempotencyKey(event.source, event.id),
        expect: { lastSequence: 0 },
      });
      assert.equal(ack.duplicate, true, 'the probe must never be stored');
    } catch (error) {
      if (/wrong last sequence/.test((error as Error).message)) return;
      throw error;
    }
    if (Date.now() > deadline) throw new Error('the duplicate window did not pass in 15 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
