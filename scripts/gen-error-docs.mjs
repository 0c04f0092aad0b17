#!/usr/bin/env node
// Writes docs/errors.md from the error-code registry (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { ERROR_CODES, PROBLEM_TYPE_BASE } from '../dist/src/errors/registry.js';

const lines = [
  '# Error codes',
  '',
  'Every error the API returns is RFC 9457 `application/problem+json` with these members:',
  '`type` (a stable URI, `' +
    PROBLEM_TYPE_BASE +
    '<code>`), `title`, `status`, `detail` (what went wrong, in words),',
  '`code` (the short name below), `instance` (the request path) and, for validation problems, `errors[]` of',
  '`{path, message}`. Codes marked retryable may succeed if the same request is sent again later',
  '(honour `Retry-After` when present).',
  '',
  'This page is generated from `src/errors/registry.ts` by `node scripts/gen-error-docs.mjs`; a test fails when they differ.',
  '',
];
for (const [code, spec] of Object.entries(ERROR_CODES)) {
  lines.push(
    `## ${code}`,
    '',
    `HTTP ${spec.status} · ${spec.title} · ${spec.retryable ? 'retryable' : 'not retryable'}`,
    '',
    spec.doc,
    '',
  );
}
writeFileSync(new URL('../docs/errors.md', import.meta.url), lines.join('\n'));
