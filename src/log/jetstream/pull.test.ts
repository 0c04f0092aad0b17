import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAckReply } from './pull.js';

test('stream sequence and store time come from the delivery reply subject', () => {
  assert.deepEqual(parseAckReply('$JS.ACK.EV.6YuUP2o0.1.4.1.1795786534278277768.0'), {
    seq: 4,
    time: 1795786534278,
  });
  // With a domain and an account hash (and a trailing token), as newer servers send it.
  assert.deepEqual(parseAckReply('$JS.ACK.hub.ACCHASH.EV.c1.2.17.9.1795786534278277768.3.rnd'), {
    seq: 17,
    time: 1795786534278,
  });
});

test('replies that are not JetStream deliveries are refused', () => {
  assert.equal(parseAckReply(''), null);
  assert.equal(parseAckReply('_INBOX.abc'), null);
  assert.equal(parseAckReply('$JS.ACK.EV.c1.1'), null);
  assert.equal(parseAckReply('$JS.ACK.EV.c1.1.x.1.123.0'), null);
});
