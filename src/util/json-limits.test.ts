import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import Fastify from 'fastify';
import '../../test/helpers/seed.js';
import { installProblemHandlers } from '../api/problem-handler.js';
import { ProblemError } from '../errors/problem.js';
import { parseJsonWithLimits } from './json-limits.js';

/** Asserts `fn` throws a ProblemError with `code`; returns it for further checks. */
function problemOf(fn: () => unknown, code: string): ProblemError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ProblemError, `expected a ProblemError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}

const nested = (depth: number, inner = '0') => '['.repeat(depth) + inner + ']'.repeat(depth);

/** The deepest nesting and the largest container of a JSON value, as the limits count them. */
function measure(value: unknown): { depth: number; members: number } {
  if (value === null || typeof value !== 'object') return { depth: 0, members: 0 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let depth = 0;
  let members = children.length;
  for (const child of children) {
    const m = measure(child);
    depth = Math.max(depth, m.depth);
    members = Math.max(members, m.members);
  }
  return { depth: depth + 1, members };
}

// Strings full of the characters the scanner looks at, so skipping strings is really exercised.
const trickyString = fc.string({
  unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', 'a', 'é', '\n'),
});
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.oneof(fc.string(), trickyString),
    fc.array(tie('value')),
    fc.dictionary(fc.oneof(fc.string(), trickyString), tie('value')),
  ),
})).value;

describe('parseJsonWithLimits: properties', () => {
  test('within the limits it returns what JSON.parse returns, however the text is laid out', () => {
    fc.assert(
      fc.property(jsonValue, fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        assert.deepEqual(parseJsonWithLimits(text), JSON.parse(text));
      }),
    );
  });

  test('fc.json documents parse the same as with JSON.parse', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => {
        assert.deepEqual(parseJsonWithLimits(text), JSON.parse(text));
      }),
    );
  });

  test('the limits are exact: a value at the limit passes, one below it fails', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        const text = JSON.stringify(value);
        const { depth, members } = measure(value);
        const maxMembers = Math.max(1, members);
        assert.deepEqual(parseJsonWithLimits(text, { maxDepth: depth, maxMembers }), JSON.parse(text));
        if (depth > 0)
          problemOf(() => parseJsonWithLimits(text, { maxDepth: depth - 1 }), 'json-too-complex');
        if (members > 1)
          problemOf(() => parseJsonWithLimits(text, { maxMembers: members - 1 }), 'json-too-complex');
      }),
    );
  });
});

describe('parseJsonWithLimits: depth', () => {
  test('32 levels pass by default, 33 do not, and the pointer names the 33rd', () => {
    assert.deepEqual(parseJsonWithLimits(nested(32)), JSON.parse(nested(32)));
    const problem = problemOf(() => parseJsonWithLimits(nested(33)), 'json-too-complex');
    const path = '/0'.repeat(32);
    assert.equal(
      problem.message,
      `the body nests deeper than 32 levels (limit maxDepth 32) at ${path}; flatten it`,
    );
    assert.deepEqual(problem.errors, [{ path, message: 'nests deeper than 32 levels (limit maxDepth 32)' }]);
    assert.equal(problem.status, 400);
  });

  test('100,000 open brackets are refused without overflowing the stack, closed or not', () => {
    for (const text of ['['.repeat(100_000), nested(100_000), '{"a":'.repeat(100_000)]) {
      problemOf(() => parseJsonWithLimits(text), 'json-too-complex');
    }
  });

  test('the pointer walks object keys and array indexes, escaping ~ and /', () => {
    const text = '{"x": 1, "a/b~c": [0, 1, {"k": [[["deep"]]]}], "y": 2}';
    const problem = problemOf(() => parseJsonWithLimits(text, { maxDepth: 5 }), 'json-too-complex');
    assert.deepEqual(problem.errors?.[0]?.path, '/a~1b~0c/2/k/0/0');
  });

  test('keys with escapes are decoded in the pointer', () => {
    const text = '{"q\\"uote\\u00e9": {"in": [1]}}';
    const problem = problemOf(() => parseJsonWithLimits(text, { maxDepth: 2 }), 'json-too-complex');
    assert.equal(problem.errors?.[0]?.path, '/q"uoteé/in');
  });

  test('brackets inside strings do not count', () => {
    const text = JSON.stringify(['[[[[[[', '{{{{', '\\"[[[', { k: ']]]' }]);
    assert.deepEqual(parseJsonWithLimits(text, { maxDepth: 2 }), JSON.parse(text));
  });

  test('scalars at the root and maxDepth 0', () => {
    for (const text of ['1', '"s"', 'null', 'true', ' -0.5e3 ']) {
      assert.deepEqual(parseJsonWithLimits(text, { maxDepth: 0 }), JSON.parse(text));
    }
    const problem = problemOf(() => parseJsonWithLimits('[]', { maxDepth: 0 }), 'json-too-complex');
    assert.equal(
      problem.message,
      'the body nests deeper than 0 levels (limit maxDepth 0) at the root; flatten it',
    );
  });
});

describe('parseJsonWithLimits: members', () => {
  test('10,000 items pass by default, 10,001 do not', () => {
    const ok = JSON.stringify({ items: Array.from({ length: 10_000 }, (_, i) => i) });
    assert.equal((parseJsonWithLimits(ok) as { items: number[] }).items.length, 10_000);
    const tooMany = JSON.stringify({ items: Array.from({ length: 10_001 }, (_, i) => i) });
    const problem = problemOf(() => parseJsonWithLimits(tooMany), 'json-too-complex');
    assert.equal(
      problem.message,
      'the array at /items holds more than 10000 items (limit maxMembers 10000); split it',
    );
    assert.deepEqual(problem.errors, [
      { path: '/items', message: 'holds more than 10000 items (limit maxMembers 10000)' },
    ]);
  });

  test('an object at the root with too many members', () => {
    const text = JSON.stringify(Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`k${i}`, i])));
    assert.deepEqual(parseJsonWithLimits(text, { maxMembers: 4 }), JSON.parse(text));
    const problem = problemOf(() => parseJsonWithLimits(text, { maxMembers: 3 }), 'json-too-complex');
    assert.equal(
      problem.message,
      'the object at the root holds more than 3 members (limit maxMembers 3); split it',
    );
  });

  test('commas inside strings and nested containers do not count toward the parent', () => {
    const text = JSON.stringify([',,,,,', [1, 2, 3, 4], { a: 1, b: 2, c: 3 }]);
    assert.deepEqual(parseJsonWithLimits(text, { maxMembers: 4 }), JSON.parse(text));
    const problem = problemOf(() => parseJsonWithLimits(text, { maxMembers: 3 }), 'json-too-complex');
    assert.equal(problem.errors?.[0]?.path, '/1');
  });

  test('nonsense limits are a programming error', () => {
    assert.throws(() => parseJsonWithLimits('1', { maxDepth: -1 }), RangeError);
    assert.throws(() => parseJsonWithLimits('1', { maxMembers: 0 }), RangeError);
    assert.throws(() => parseJsonWithLimits('1', { maxDepth: 1.5 }), RangeError);
  });
});

describe('parseJsonWithLimits: malformed input', () => {
  test('invalid JSON is malformed-json with the parser message', () => {
    for (const text of ['', '{', '[1,', '{"a" 1}', '"unterminated', "{'a': 1}", ']', '1 2', '[1]]']) {
      const problem = problemOf(() => parseJsonWithLimits(text), 'malformed-json');
      let parserMessage = '';
      try {
        JSON.parse(text);
      } catch (error) {
        parserMessage = (error as Error).message;
      }
      assert.equal(problem.message, `the body is not valid JSON: ${parserMessage}`);
    }
  });
});

test('a "__proto__" key stays an own property and leaves Object.prototype alone', () => {
  const parsed = parseJsonWithLimits(
    '{"__proto__": {"polluted": true}, "a": {"__proto__": {"x": 1}}}',
  ) as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.ok(Object.hasOwn(parsed, '__proto__'));
  assert.deepEqual(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value, { polluted: true });
});

test('a 1 MB ordinary document parses the same as JSON.parse', () => {
  const rows = Array.from({ length: 5_000 }, (_, i) => ({
    id: `evt-${i}`,
    plant: 'P1',
    tags: ['a', 'b', `c${i}`],
    quantity: { value: i * 1.5, uom: 'EA' },
    note: 'line "7" [shift B], {ok}',
  }));
  const text = JSON.stringify({ rows, padding: 'x'.repeat(1_000_000 - JSON.stringify(rows).length) });
  assert.ok(text.length >= 1_000_000);
  assert.deepEqual(parseJsonWithLimits(text), JSON.parse(text));
});

test('wired as the JSON body parser, a too-deep body is a 400 problem+json', async () => {
  // The same parser wiring the hub uses.
  const app = Fastify();
  installProblemHandlers(app);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    try {
      done(null, parseJsonWithLimits(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.post('/echo', async (request) => ({ body: request.body ?? null }));
  try {
    const post = (payload: string) =>
      app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
    const deep = await post(nested(100_000));
    assert.equal(deep.statusCode, 400);
    assert.equal(deep.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(deep.json().code, 'json-too-complex');
    assert.equal(deep.json().errors[0].path, '/0'.repeat(32));
    const broken = await post('{"a":');
    assert.equal(broken.statusCode, 400);
    assert.equal(broken.json().code, 'malformed-json');
    assert.deepEqual((await post('{"a":[1]}')).json(), { body: { a: [1] } });
    assert.deepEqual((await post('')).json(), { body: null });
  } finally {
    await app.close();
  }
});
