import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headers, type NatsConnection } from 'nats';
import { JetStreamPublisher, PublishError, readAck } from './publisher.js';

const encoder = new TextEncoder();
const reply = (body: string, status?: number) => ({
  data: encoder.encode(body),
  headers: status === undefined ? undefined : headers(status, 'No Responders'),
});

test('a PubAck gives the sequence and whether JetStream knew the message id', () => {
  assert.deepEqual(readAck(reply('{"stream":"EV","seq":42}')), { seq: 42, duplicate: false });
  assert.deepEqual(readAck(reply('{"stream":"EV","seq":7,"duplicate":true}')), { seq: 7, duplicate: true });
});

test('a refusal keeps JetStream’s error, so a retry decision and a create conflict can be told apart', () => {
  const conflict = readAck(
    reply('{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}}'),
  );
  assert.ok(conflict instanceof PublishError);
  assert.equal(conflict.api_error?.err_code, 10071);
  assert.equal(conflict.message, 'wrong last sequence: 5');
  const noLeader = readAck(reply('', 503));
  assert.ok(noLeader instanceof PublishError);
  assert.equal(noLeader.code, '503');
  const garbled = readAck(reply('not json'));
  assert.ok(garbled instanceof PublishError);
  assert.equal(garbled.code, 'BAD_ACK');
});

/**
 * A connection that flushes the way the client library does: one socket write per run of
 * microtasks, holding whatever was published since the last one.
 */
function flushCountingConnection() {
  const writes: string[][] = [];
  let pending: string[] | null = null;
  let closed = false;
  const nc = {
    subscribe: () => ({ unsubscribe() {} }),
    closed: () => new Promise<void>(() => undefined),
    isClosed: () => closed,
    publish(subject: string) {
      if (closed) throw new Error('connection closed');
      if (pending === null) {
        pending = [];
        queueMicrotask(() => {
          writes.push(pending as string[]);
          pending = null;
        });
      }
      pending.push(subject);
    },
  };
  return { nc: nc as unknown as NatsConnection, writes, close: () => (closed = true) };
}

test('publishes made by separate callbacks of one turn go out in one write, in call order', async () => {
  const { nc, writes } = flushCountingConnection();
  const publisher = new JetStreamPublisher(nc, 60_000);
  const sent = new Promise<void>((resolve) => {
    // Two timers due together run in one turn, with the microtasks run between them.
    setTimeout(() => void publisher.publish('a', '1').catch(() => undefined), 0);
    setTimeout(() => {
      void publisher.publish('b', '2').catch(() => undefined);
      void publisher.publish('c', '3').catch(() => undefined);
      setImmediate(() => setImmediate(resolve));
    }, 0);
  });
  await sent;
  assert.deepEqual(writes, [['a', 'b', 'c']]);
});

test('a publish the closed connection no longer takes fails at once instead of waiting out its deadline', async () => {
  const { nc, close } = flushCountingConnection();
  const publisher = new JetStreamPublisher(nc, 60_000);
  const outcome = publisher.publish('a', '1');
  close();
  await assert.rejects(outcome, (error: PublishError) => error.code === 'CONNECTION_CLOSED');
  await assert.rejects(publisher.publish('b', '2'), /closed/);
});
