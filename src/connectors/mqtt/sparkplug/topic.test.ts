import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSpecExamples } from './spec-examples.test-helper.js';
import { formatTopic, parseTopic, type SparkplugTopic, SparkplugTopicError } from './topic.js';

test('valid topics parse to typed node, device and STATE topics', () => {
  const table: Array<[string, SparkplugTopic]> = [
    [
      'spBv1.0/P1/NBIRTH/line-1',
      { kind: 'node', groupId: 'P1', messageType: 'NBIRTH', edgeNodeId: 'line-1' },
    ],
    [
      'spBv1.0/P1/NDEATH/line-1',
      { kind: 'node', groupId: 'P1', messageType: 'NDEATH', edgeNodeId: 'line-1' },
    ],
    ['spBv1.0/P1/NDATA/line-1', { kind: 'node', groupId: 'P1', messageType: 'NDATA', edgeNodeId: 'line-1' }],
    ['spBv1.0/P1/NCMD/line-1', { kind: 'node', groupId: 'P1', messageType: 'NCMD', edgeNodeId: 'line-1' }],
    [
      'spBv1.0/P1/DBIRTH/line-1/press 7',
      { kind: 'device', groupId: 'P1', messageType: 'DBIRTH', edgeNodeId: 'line-1', deviceId: 'press 7' },
    ],
    [
      'spBv1.0/P1/DDEATH/line-1/PRESS-07',
      { kind: 'device', groupId: 'P1', messageType: 'DDEATH', edgeNodeId: 'line-1', deviceId: 'PRESS-07' },
    ],
    [
      'spBv1.0/P1/DDATA/line-1/PRESS-07',
      { kind: 'device', groupId: 'P1', messageType: 'DDATA', edgeNodeId: 'line-1', deviceId: 'PRESS-07' },
    ],
    [
      'spBv1.0/P1/DCMD/line-1/PRESS-07',
      { kind: 'device', groupId: 'P1', messageType: 'DCMD', edgeNodeId: 'line-1', deviceId: 'PRESS-07' },
    ],
    ['spBv1.0/STATE/scada-host', { kind: 'state', messageType: 'STATE', hostId: 'scada-host' }],
    // UTF-8 ids are allowed; only + / # are reserved.
    [
      'spBv1.0/Werk Köln/NDATA/Presse→1',
      { kind: 'node', groupId: 'Werk Köln', messageType: 'NDATA', edgeNodeId: 'Presse→1' },
    ],
  ];
  for (const [text, expected] of table) {
    const result = parseTopic(text);
    assert.deepEqual(result, { ok: true, topic: expected }, text);
    assert.equal(formatTopic(expected), text, 'formatting gives the same topic back');
  }
});

test('invalid topics give a typed error naming the broken rule', () => {
  const table: Array<[string, SparkplugTopicError['code']]> = [
    ['spAv1.0/P1/NDATA/line-1', 'wrong-namespace'],
    ['spbv1.0/P1/NDATA/line-1', 'wrong-namespace'],
    ['P1/NDATA/line-1', 'wrong-namespace'],
    ['', 'wrong-namespace'],
    ['spBv1.0/P1/NDATA', 'too-few-levels'],
    ['spBv1.0', 'too-few-levels'],
    ['spBv1.0/STATE', 'too-few-levels'],
    ['spBv1.0/P1/DDATA/line-1/PRESS-07/extra', 'too-many-levels'],
    ['spBv1.0/STATE/host/extra', 'too-many-levels'],
    ['spBv1.0/P1/ndata/line-1', 'unknown-message-type'],
    ['spBv1.0/P1/NDATAX/line-1', 'unknown-message-type'],
    ['spBv1.0/P1/STATUS/line-1', 'unknown-message-type'],
    ['spBv1.0//NDATA/line-1', 'empty-id'],
    ['spBv1.0/P1/NDATA/', 'empty-id'],
    ['spBv1.0/P1/DDATA/line-1/', 'empty-id'],
    ['spBv1.0/STATE/', 'empty-id'],
    ['spBv1.0/+/NDATA/line-1', 'reserved-character'],
    ['spBv1.0/P1/NDATA/#', 'reserved-character'],
    ['spBv1.0/P1/DDATA/line-1/dev+1', 'reserved-character'],
    ['spBv1.0/P1/DDATA/line-1', 'device-id-required'],
    ['spBv1.0/P1/DBIRTH/line-1', 'device-id-required'],
    ['spBv1.0/P1/NDATA/line-1/PRESS-07', 'device-id-not-allowed'],
    ['spBv1.0/P1/NBIRTH/line-1/PRESS-07', 'device-id-not-allowed'],
  ];
  for (const [text, code] of table) {
    const result = parseTopic(text);
    assert.equal(result.ok, false, text);
    if (result.ok) continue;
    assert.ok(result.error instanceof SparkplugTopicError);
    assert.equal(result.error.code, code, text);
    assert.equal(result.error.topic, text);
    assert.match(result.error.message, /invalid Sparkplug topic/);
  }
});

test('formatting refuses ids that would change the topic structure', () => {
  assert.throws(
    () => formatTopic({ kind: 'node', groupId: 'P1', messageType: 'NCMD', edgeNodeId: 'a/b' }),
    (e: unknown) => e instanceof SparkplugTopicError && e.code === 'reserved-character',
  );
  assert.throws(
    () => formatTopic({ kind: 'device', groupId: 'P1', messageType: 'DCMD', edgeNodeId: 'e', deviceId: '' }),
    (e: unknown) => e instanceof SparkplugTopicError && e.code === 'empty-id',
  );
  assert.throws(
    // A node message type on a device topic is a programming error the type system cannot always catch.
    () =>
      formatTopic({
        kind: 'device',
        groupId: 'P1',
        messageType: 'NCMD' as 'DCMD',
        edgeNodeId: 'e',
        deviceId: 'd',
      }),
    (e: unknown) => e instanceof SparkplugTopicError && e.code === 'unknown-message-type',
  );
});

test('every topic printed in the spec examples parses', () => {
  for (const example of loadSpecExamples().values()) {
    const result = parseTopic(example.topic);
    assert.ok(result.ok, example.topic);
    assert.equal(result.topic.messageType, example.messageType);
    if (result.topic.kind !== 'state') {
      assert.equal(result.topic.groupId, 'Sparkplug B Devices');
      assert.equal(result.topic.edgeNodeId, 'Raspberry Pi');
    }
    if (result.topic.kind === 'device') assert.equal(result.topic.deviceId, 'Pibrella');
  }
});
