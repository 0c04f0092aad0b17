import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CONVEYOR_CLI } from '../../src/bench/child-process.js';
import { CANONICAL_TYPES } from '../../src/model/catalog.js';
import { jsonSchemaOf } from '../../src/model/schemas/index.js';
import { ADMIN_KEY } from '../helpers/hub.js';
import { startHubProcess } from '../helpers/hub-process.js';

const run = promisify(execFile);

test('conveyor schema check|propose|approve|list against a running hub', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-schema-'));
  const hub = await startHubProcess(['start', '--data', join(dir, 'data'), '--port', '0'], {
    CONVEYOR_ADMIN_KEY: ADMIN_KEY,
  });
  const env = { ...process.env, CONVEYOR_URL: hub.url, CONVEYOR_KEY: ADMIN_KEY };
  const cli = (...args: string[]) =>
    run(process.execPath, [CONVEYOR_CLI, ...args], { env }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  try {
    const type = 'quality.hold.placed';
    const base = jsonSchemaOf(type) as { properties: Record<string, unknown>; required: string[] };
    const optional = structuredClone(base);
    optional.properties.inspector = { type: 'string', description: 'Who placed the hold' };
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ type, schema: optional }));
    const required = structuredClone(optional);
    required.required = [...required.required, 'inspector'];
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `type: ${type}\nschema: ${JSON.stringify(required)}\n`);

    const checkGood = await cli('schema', 'check', good);
    assert.equal((checkGood as { code?: number }).code, undefined, checkGood.stderr);
    assert.match(checkGood.stdout, /BACKWARD\s+compatible\s+<- required/);
    const checkBad = await cli('schema', 'check', bad);
    assert.equal((checkBad as { code?: number }).code, 1);
    assert.match(checkBad.stdout, /BACKWARD\s+INCOMPATIBLE/);
    assert.match(checkBad.stdout, /\/properties\/inspector.*became required/);

    assert.match((await cli('schema', 'propose', bad)).stderr, /409.*not BACKWARD compatible/);
    assert.match((await cli('schema', 'propose', good)).stdout, /quality.hold.placed version 2 is proposed/);
    assert.match((await cli('schema', 'approve', type, '2')).stdout, /version 2 is approved/);
    const list = await cli('schema', 'list');
    assert.match(
      list.stdout,
      /quality\.hold\.placed\s+quality-assurance\s+BACKWARD\s+v1:approved v2:approved/,
    );
  } finally {
    await hub.stop('SIGTERM');
  }
});

test('conveyor catalog export writes AsyncAPI and OpenAPI documents that their parsers accept', {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-export-'));
  const config = join(dir, 'conveyor.yaml');
  writeFileSync(
    config,
    'connectors:\n  mes: { kind: http, url: "http://127.0.0.1:9/e" }\nroutes:\n  - { name: orders, types: [production.order.released], sink: mes }\n',
  );
  for (const format of ['asyncapi', 'openapi']) {
    await run(process.execPath, [
      CONVEYOR_CLI,
      'catalog',
      'export',
      '--format',
      format,
      '--config',
      config,
      '--data',
      join(dir, 'data'),
      '--out',
      join(dir, `${format}.json`),
    ]);
  }
  const { Parser } = await import('@asyncapi/parser');
  const parsed = await new Parser().parse(readFileSync(join(dir, 'asyncapi.json'), 'utf8'));
  assert.deepEqual(
    parsed.diagnostics.filter((d) => d.severity === 0),
    [],
  );
  assert.equal(parsed.document?.channels().length, CANONICAL_TYPES.size);
  const { validate } = await import('@readme/openapi-parser');
  const openapi = JSON.parse(readFileSync(join(dir, 'openapi.json'), 'utf8'));
  const result = await validate(openapi);
  assert.equal(result.valid, true, JSON.stringify(result));
  const bad = await run(process.execPath, [CONVEYOR_CLI, 'catalog', 'export', '--format', 'wsdl']).catch(
    (e: { stderr: string }) => e,
  );
  assert.match(bad.stderr, /--format must be asyncapi or openapi/);
});
