import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { test } from 'node:test';
import { BloomFilter } from './bloom-filter.js';

const halves = (n: number): [number, number] => {
  const digest = hash('sha1', `key-${n}`, 'buffer');
  return [digest.readUInt32BE(0), digest.readUInt32BE(4)];
};

test('a Bloom filter holds every key added and few others at its expected size', () => {
  const expected = 131_072;
  const bloom = new BloomFilter(expected);
  for (let n = 0; n < expected; n++) bloom.add(...halves(n));
  for (let n = 0; n < expected; n++) assert.ok(bloom.mayContain(...halves(n)), `key ${n} lost`);
  let falsePositives = 0;
  const probes = 200_000;
  for (let n = expected; n < expected + probes; n++) if (bloom.mayContain(...halves(n))) falsePositives++;
  // Sized for about 0.06%; an older partition's table is read only on these.
  assert.ok(falsePositives / probes < 0.002, `false positive rate ${falsePositives / probes}`);
  assert.equal(bloom.bytes, (expected * 16) / 8);
});

test('an empty or lightly filled Bloom filter rejects unknown keys', () => {
  const bloom = new BloomFilter(16);
  assert.equal(bloom.mayContain(...halves(1)), false);
  bloom.add(...halves(1));
  assert.equal(bloom.mayContain(...halves(1)), true);
  let hits = 0;
  for (let n = 2; n < 10_002; n++) if (bloom.mayContain(...halves(n))) hits++;
  assert.ok(hits < 10, `${hits} false positives with one key`);
});
