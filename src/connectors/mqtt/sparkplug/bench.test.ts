import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchSparkplugDecode } from './bench.js';

test('the decode + map benchmark runs every metric through the whole path', () => {
  // It throws itself if any message failed the session or lost a metric; no timing is asserted.
  const result = benchSparkplugDecode(300);
  assert.equal(result.messages, 300);
  assert.equal(result.metricsPerMessage, 50);
  assert.ok(Number.isFinite(result.nsPerMetric) && result.nsPerMetric > 0);
});
