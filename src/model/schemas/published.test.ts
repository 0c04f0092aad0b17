import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { checkCompatibility } from '../../registry/compatibility.js';
import { CANONICAL_SCHEMAS_V1, jsonSchemaOf } from './index.js';
import { createDataValidator } from './validator.js';

// The v1 schemas as first published. Producers and consumers rely on them, so v1 may only change in
// ways that are compatible in both directions (descriptions, examples, new optional fields).
const publishedDir = new URL('../../../../test/data/model/v1/', import.meta.url);

function published(type: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${type}.schema.json`, publishedDir), 'utf8'));
}

test('every canonical type has its published v1 schema on file', () => {
  const files = readdirSync(publishedDir)
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => f.slice(0, -'.schema.json'.length));
  assert.deepEqual(files.sort(), [...CANONICAL_SCHEMAS_V1.keys()].sort());
});

test('v1 schemas stay FULL compatible with what was published', () => {
  for (const type of CANONICAL_SCHEMAS_V1.keys()) {
    const result = checkCompatibility(jsonSchemaOf(type) ?? {}, [published(type)], 'FULL');
    assert.deepEqual(
      result.problems.map((p) => p.message),
      [],
      `${type} v1 changed incompatibly; a breaking change needs a new major version`,
    );
  }
});

test('the published examples still validate', () => {
  const validator = createDataValidator();
  for (const type of CANONICAL_SCHEMAS_V1.keys()) {
    for (const example of published(type).examples as unknown[]) {
      assert.deepEqual(validator.validate(type, 1, example), [], type);
    }
  }
});
