import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../delivery/clock.js';
import { ResumeWatchdog } from './resume-watchdog.js';

function watchdog(timeoutMs = 15_000) {
  const clock = new ManualClock();
  let expired = 0;
  const dog = new ResumeWatchdog(clock, timeoutMs, () => expired++);
  return { clock, dog, expired: () => expired };
}

test('expires once the bound has passed since the channel reopened, not before', async () => {
  const { clock, dog, expired } = watchdog();
  dog.channelReopened();
  assert.equal(dog.running, true);
  await clock.advance(14_999);
  assert.equal(expired(), 0);
  await clock.advance(1);
  assert.equal(expired(), 1);
  assert.equal(dog.running, false);
  await clock.advance(60_000);
  assert.equal(expired(), 1, 'once');
});

test('a channel reopened again and again does not push the bound out', async () => {
  const { clock, dog, expired } = watchdog();
  dog.channelReopened();
  for (let i = 0; i < 14; i++) {
    await clock.advance(1_000);
    dog.channelReopened();
  }
  await clock.advance(1_000);
  assert.equal(expired(), 1, 'the bound counts from the first reopened channel');
  assert.equal(clock.pending, 0);
});

test('a resumed session stops it; the next loss gets a whole bound again', async () => {
  const { clock, dog, expired } = watchdog();
  dog.channelReopened();
  await clock.advance(10_000);
  dog.stop();
  assert.equal(dog.running, false);
  assert.equal(clock.pending, 0, 'no timer left behind');
  await clock.advance(10_000);
  assert.equal(expired(), 0);
  dog.channelReopened();
  await clock.advance(14_000);
  assert.equal(expired(), 0);
  await clock.advance(1_000);
  assert.equal(expired(), 1);
});
