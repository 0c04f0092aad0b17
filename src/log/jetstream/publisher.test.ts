import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headers } from 'nats';
import { PublishError, readAck } from './publisher.js';

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
