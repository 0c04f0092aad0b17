import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exampleData, makeEvent } from '../../test/helpers/events.js';
import { ProblemError } from '../errors/problem.js';
import { CANONICAL_TYPES } from '../model/catalog.js';
import { jsonSchemaOf } from '../model/schemas/index.js';
import { SqliteStateStore } from '../store/sqlite/sqlite-state-store.js';
import { SchemaRegistry } from './registry.js';

async function openRegistry() {
  const store = SqliteStateStore.open(join(mkdtempSync(join(tmpdir(), 'conveyor-reg-')), 'state.db'));
  return { store, registry: await SchemaRegistry.open(store.schemas) };
}

async function refusal(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProblemError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

const released = 'production.order.released';
const withOptional = () => {
  const schema = structuredClone(jsonSchemaOf(released)) as {
    properties: Record<string, unknown>;
    required: string[];
  };
  schema.properties.priority = {
    type: 'integer',
    minimum: 1,
    maximum: 9,
    description: 'Scheduling priority',
  };
  return schema;
};

test('the registry starts with version 1 of every canonical type, approved, and validates data against it', async () => {
  const { registry, store } = await openRegistry();
  try {
    assert.equal(registry.types().length, CANONICAL_TYPES.size);
    assert.equal(registry.latestApproved(released), 1);
    assert.deepEqual(registry.checkEvent(makeEvent({ type: released })).errors, []);
    const bad = makeEvent({
      type: released,
      data: { ...exampleData(released), quantity: { value: -5, uom: 'EA' } },
    });
    assert.deepEqual(
      registry.checkEvent(bad).errors.map((e) => e.path),
      ['/data/quantity/value'],
    );
    const unknown = registry.checkEvent({ ...makeEvent(), type: 'production.order.teleported' });
    assert.match(unknown.errors[0]?.message ?? '', /unknown event type/);
    // Reopening keeps what is stored and adds nothing.
    const again = await SchemaRegistry.open(store.schemas);
    assert.equal(again.describe(released)?.versions.length, 1);
  } finally {
    await store.close();
  }
});

test('a compatible proposal waits for approval; events naming it are refused until then', async () => {
  const { registry, store } = await openRegistry();
  try {
    const proposed = await registry.propose(released, withOptional(), {}, 'alice');
    assert.deepEqual(proposed, { type: released, version: 2, status: 'proposed' });
    const v2Event = makeEvent({
      type: released,
      dataschema: `urn:conveyor:schema:${released}:2`,
      data: { ...exampleData(released), priority: 3 },
    });
    assert.match(registry.checkEvent(v2Event).errors[0]?.message ?? '', /version 2 is proposed/);
    await registry.setStatus(released, 2, 'approved', 'bob');
    assert.deepEqual(registry.checkEvent(v2Event).errors, []);
    const tooHigh = { ...v2Event, data: { ...exampleData(released), priority: 12 } };
    assert.deepEqual(
      registry.checkEvent(tooHigh).errors.map((e) => e.path),
      ['/data/priority'],
    );
    assert.equal(registry.latestApproved(released), 2);
  } finally {
    await store.close();
  }
});

test('an incompatible proposal is refused with each incompatibility explained, and nothing is stored', async () => {
  const { registry, store } = await openRegistry();
  try {
    const schema = withOptional();
    schema.required.push('priority');
    const error = await refusal(registry.propose(released, schema, {}, 'alice'));
    assert.equal(error.code, 'schema-incompatible');
    assert.ok(
      error.errors?.some((e) => e.path === '/properties/priority' && /became required/.test(e.message)),
      JSON.stringify(error.errors),
    );
    assert.equal(registry.describe(released)?.versions.length, 1);
    // Under NONE the same change is accepted (and the type's mode is recorded).
    const ok = await registry.propose(released, schema, { compatibility: 'NONE' }, 'alice');
    assert.equal(ok.version, 2);
    assert.equal(registry.describe(released)?.compatibility, 'NONE');
  } finally {
    await store.close();
  }
});

test('bad proposals get precise problems: invalid schema, remote $ref, cycle, unknown type, bad mode', async () => {
  const { registry, store } = await openRegistry();
  try {
    assert.equal(
      (await refusal(registry.propose(released, { type: 'objekt' }, {}, 'a'))).code,
      'validation-failed',
    );
    const remote = await refusal(
      registry.propose(
        released,
        { type: 'object', properties: { a: { $ref: 'https://example.com/x.json' } } },
        {},
        'a',
      ),
    );
    assert.match(remote.errors?.[0]?.message ?? '', /never fetched|remote/i);
    const cycle = await refusal(
      registry.propose(
        released,
        {
          type: 'object',
          $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } },
          properties: { x: { $ref: '#/$defs/a' } },
        },
        {},
        'a',
      ),
    );
    assert.equal(cycle.code, 'validation-failed');
    const unknown = await refusal(
      registry.propose('production.order.teleported', { type: 'object' }, {}, 'a'),
    );
    assert.equal(unknown.code, 'not-found');
    assert.match(unknown.message, /include "owner"/);
    assert.equal(
      (await refusal(registry.propose(released, withOptional(), { compatibility: 'SIDEWAYS' }, 'a'))).code,
      'validation-failed',
    );
    assert.equal(registry.describe(released)?.versions.length, 1, 'nothing stored');
    const created = await registry.propose(
      'production.order.teleported',
      { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } } },
      { owner: 'r-and-d' },
      'a',
    );
    assert.equal(created.version, 1);
    assert.equal(registry.describe('production.order.teleported')?.owner, 'r-and-d');
  } finally {
    await store.close();
  }
});

test('deprecated versions are accepted and flagged; retired ones are refused; the life cycle only moves forward', async () => {
  const { registry, store } = await openRegistry();
  try {
    await registry.propose(released, withOptional(), {}, 'alice');
    await registry.setStatus(released, 2, 'approved', 'bob');
    await registry.setStatus(released, 1, 'deprecated', 'bob');
    const v1 = makeEvent({ type: released, dataschema: `urn:conveyor:schema:${released}:1` });
    assert.deepEqual(registry.checkEvent(v1).deprecated, { type: released, version: 1 });
    await registry.setStatus(released, 1, 'retired', 'bob');
    assert.match(
      registry.checkEvent(v1).errors[0]?.message ?? '',
      /retired.*use urn:conveyor:schema:production.order.released:2/,
    );
    assert.equal((await refusal(registry.setStatus(released, 1, 'approved', 'bob'))).code, 'conflict');
    assert.equal((await refusal(registry.setStatus(released, 9, 'approved', 'bob'))).code, 'not-found');
    const reopened = await SchemaRegistry.open(store.schemas);
    assert.deepEqual(
      reopened.describe(released)?.versions.map((v) => v.status),
      ['retired', 'approved'],
    );
  } finally {
    await store.close();
  }
});
