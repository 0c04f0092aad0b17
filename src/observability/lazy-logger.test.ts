import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { LazyChildLogger } from './lazy-logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, root: pino({ level: 'info' }, stream) as unknown as FastifyBaseLogger };
}

test('a lazy child builds its pino child only when it writes, and the line carries every binding', () => {
  const { lines, root } = capture();
  let built = 0;
  const counting = Object.create(root) as FastifyBaseLogger;
  counting.child = (bindings, options) => {
    built++;
    return root.child(bindings, options);
  };
  const request = new LazyChildLogger(counting, { reqId: 'req-1' }) as unknown as FastifyBaseLogger;
  const traced = request.child({ traceId: 'abc' });
  assert.equal(built, 0, 'no child is built for a request that never logs');
  assert.equal(traced.level, 'info');
  traced.warn({ route: 'r' }, 'slow');
  traced.debug('below the level');
  assert.equal(built, 1);
  assert.equal(lines.length, 1);
  assert.deepEqual(
    { reqId: lines[0]?.reqId, traceId: lines[0]?.traceId, route: lines[0]?.route, msg: lines[0]?.msg },
    { reqId: 'req-1', traceId: 'abc', route: 'r', msg: 'slow' },
  );
});

test('a route level given to the child applies to it', () => {
  const { lines, root } = capture();
  const quiet = new LazyChildLogger(
    root,
    { reqId: 'r2' },
    { level: 'error' },
  ) as unknown as FastifyBaseLogger;
  assert.equal(quiet.level, 'error');
  quiet.info('dropped');
  quiet.error('kept');
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['kept'],
  );
});
