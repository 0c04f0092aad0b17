/** Helpers shared by the tests of this folder: fixture files, schema validation with xmllint, checks. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIBXML2_UTILS, requireDebianPackage } from '../../test/helpers/debian-package.js';
import { createDataValidator } from '../model/schemas/validator.js';
import { B2mmlError, type B2mmlErrorCode } from './b2mml-error.js';

/** A file under test/data/b2mml/ (compiled tests run from dist/src/b2mml/). */
export function dataUrl(path: string): URL {
  return new URL(`../../../test/data/b2mml/${path}`, import.meta.url);
}

/** Bytes of a file under test/data/b2mml/. */
export function fixture(path: string): Buffer {
  return readFileSync(dataUrl(path));
}

/** The Courbon V0401 examples. */
export const COURBON = {
  schedule: 'examples/courbon-b2mml-v0401/PRO-20121210181416-27942.xml',
  performance: 'examples/courbon-b2mml-v0401/PES-20121229115825-53107.xml',
  materialDefinition: 'examples/courbon-b2mml-v0401/MAT-20121210170256-CRBN0001.xml',
} as const;

/** Entry schemas to validate documents against. */
export const XSD = {
  v0600Schedule: 'schema-v0600/B2MML-V0600-ProductionSchedule.xsd',
  v0600Performance: 'schema-v0600/B2MML-V0600-ProductionPerformance.xsd',
  v0401Schedule: 'schema-v0401/B2MML-V0401-ProductionSchedule.xsd',
  v0401Performance: 'schema-v0401/B2MML-V0401-ProductionPerformance.xsd',
} as const;

/** Makes sure xmllint is there (`npm test` installs it); otherwise fails naming the command. */
export function ensureXmllint(): void {
  requireDebianPackage(LIBXML2_UTILS);
}

/** Validates a document against an XSD under test/data/b2mml/ with xmllint. */
export function validateWithXsd(xml: string | Buffer, xsd: string): { valid: boolean; errors: string } {
  ensureXmllint();
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-b2mml-'));
  try {
    const file = join(dir, 'document.xml');
    writeFileSync(file, xml);
    const run = spawnSync('xmllint', ['--noout', '--schema', fileURLToPath(dataUrl(xsd)), file], {
      encoding: 'utf8',
    });
    // The extension schemas import the main namespace again; xmllint notes that it skips them.
    const errors = run.stderr
      .split('\n')
      .filter(
        (line) =>
          line !== '' &&
          !line.includes('Skipping import') &&
          !line.endsWith(' validates') &&
          !line.endsWith(' fails to validate'),
      )
      .join('\n');
    return { valid: run.status === 0, errors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const validator = createDataValidator();

/** Asserts that every event's data is valid canonical data of its type. */
export function assertCanonical(events: readonly { type: string; data: unknown }[]): void {
  for (const event of events) {
    assert.deepEqual(validator.validate(event.type, 1, event.data), [], `${event.type} is not canonical`);
  }
}

/** Asserts that `run` throws a {@link B2mmlError} with `code`, and returns it. */
export function throwsB2mml(run: () => unknown, code: B2mmlErrorCode): B2mmlError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof B2mmlError, `expected a B2mmlError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(error.message.length > 20, 'the message should say what is wrong');
    return error;
  }
  assert.fail(`expected a B2mmlError with code ${code}`);
}

/** A V0600 transaction around `body` (the content of DataArea after the verb). */
export function v0600(root: string, body: string, verb = 'Sync'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<${root} xmlns="http://www.mesa.org/xml/B2MML-V0600" releaseID="V0600">
  <ApplicationArea><CreationDateTime>2024-06-13T10:00:00Z</CreationDateTime></ApplicationArea>
  <DataArea><${verb}/>${body}</DataArea>
</${root}>`;
}

/** Sorts events for comparisons that do not depend on document order. */
export function sorted<T>(events: readonly T[]): T[] {
  return [...events].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
