import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CONVEYOR_CLI } from '../../src/bench/child-process.js';
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
