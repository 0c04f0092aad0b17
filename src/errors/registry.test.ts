import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ProblemError } from './problem.js';
import { ERROR_CODES, type ErrorCode, problemType } from './registry.js';

const docsPage = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

test('every error code has a status, a title, a doc line and a section in docs/errors.md', () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.ok(
      spec.status >= 400 && spec.status < 600,
      `${code}: status ${spec.status} is not an error status`,
    );
    assert.ok(spec.title.length > 0, `${code}: empty title`);
    assert.ok(spec.doc.length >= 20, `${code}: doc line too short to help anyone`);
    assert.match(code, /^[a-z][a-z0-9-]*$/, `${code}: codes are kebab-case`);
    assert.ok(docsPage.includes(`## ${code}\n`), `${code}: no "## ${code}" section in docs/errors.md`);
  }
});

test("docs/errors.md states each code's status and retryability as the registry does", () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    const line = `## ${code}\n\nHTTP ${spec.status} · ${spec.title} · ${spec.retryable ? 'retryable' : 'not retryable'}`;
    assert.ok(
      docsPage.includes(line),
      `${code}: docs/errors.md is stale; run node scripts/gen-error-docs.mjs`,
    );
  }
});

test('docs/errors.md documents no code the registry lacks', () => {
  const documented = [...docsPage.matchAll(/^## ([a-z0-9-]+)$/gm)].map((m) => m[1]);
  for (const code of documented)
    assert.ok(code !== undefined && code in ERROR_CODES, `${code} is documented but not registered`);
});

test('a ProblemError renders RFC 9457 fields from the registry', () => {
  const err = new ProblemError('validation-failed', 'bad data', {
    errors: [{ path: '/data/x', message: 'required' }],
  });
  const doc = err.toProblem('/v1/events');
  assert.equal(doc.type, problemType('validation-failed'));
  assert.equal(doc.status, 422);
  assert.equal(doc.title, ERROR_CODES['validation-failed'].title);
  assert.equal(doc.detail, 'bad data');
  assert.equal(doc.instance, '/v1/events');
  assert.deepEqual(doc.errors, [{ path: '/data/x', message: 'required' }]);
  const code: ErrorCode = doc.code;
  assert.equal(code, 'validation-failed');
});
