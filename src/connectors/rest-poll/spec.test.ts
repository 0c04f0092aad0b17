import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { describeAjvError } from '../../config/load.js';
import { type RestPollSourceConfig, restPollSourceSpec, select } from './spec.js';

const BASE = '/srv/conveyor/data';
const AT = 'connectors.erp';

function compile(raw: Record<string, unknown>) {
  const problems: Array<{ path: string; message: string }> = [];
  const config = restPollSourceSpec.compile(
    { kind: 'rest-poll', url: 'https://erp.example/api/orders', ...raw },
    AT,
    problems,
    BASE,
  );
  return { config, problems };
}

const paths = (problems: ReadonlyArray<{ path: string }>) => problems.map((p) => p.path).sort();

/** Validates as the connector manager does (Ajv over the spec's schema), naming problems by key path. */
function schemaProblems(raw: Record<string, unknown>) {
  const validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(
    restPollSourceSpec.schema,
  );
  if (validate(raw)) return [];
  return (validate.errors ?? []).map((e) => {
    const problem = describeAjvError(e);
    return { path: problem.path ? `${AT}.${problem.path}` : AT, message: problem.message };
  });
}

test('a minimal config compiles with the documented defaults', () => {
  const { config, problems } = compile({ type: 'production.order.released' });
  assert.deepEqual(problems, []);
  const expected: Partial<RestPollSourceConfig> = {
    url: 'https://erp.example/api/orders',
    intervalMs: 10_000,
    timeoutMs: 10_000,
    items: null,
    cursor: null,
    paging: { kind: 'none' },
    etag: true,
    type: 'production.order.released',
    plant: null,
    mapped: false,
    pageLimit: 500,
    tls: null,
    stateDir: join(BASE, 'connectors'),
    reconnect: { initialDelayMs: 1_000, maxDelayMs: 30_000 },
  };
  assert.deepEqual(
    { ...config, idField: undefined, headers: undefined },
    {
      ...expected,
      idField: undefined,
      headers: undefined,
    },
  );
  assert.equal(config.idField.text, 'id');
  assert.deepEqual(config.headers, {});
  assert.ok(Object.isFrozen(config));
});

test('cursor, auth, headers and a map compile into their runtime form', async () => {
  const { config, problems } = compile({
    interval: '30s',
    items: 'data.rows[status = "RELEASED"]',
    cursor: { from: 'audit.updatedAt' },
    idField: 'orderNumber',
    headers: { 'X-Tenant': 'acme' },
    auth: { token: 's3cret' },
    map: '{"type": "production.order.released", "data": $}',
    plant: 'P1',
    stateDir: 'cursors',
  });
  assert.deepEqual(problems, []);
  assert.equal(config.intervalMs, 30_000);
  assert.equal(config.cursor?.param, 'since');
  assert.equal(config.cursor?.from.kind, 'path');
  assert.equal(config.items?.kind, 'jsonata');
  assert.deepEqual(config.headers, { 'x-tenant': 'acme', authorization: 'Bearer s3cret' });
  assert.equal(config.mapped, true);
  assert.equal(config.type, null);
  assert.equal(config.plant, 'P1');
  assert.equal(config.stateDir, join(BASE, 'cursors'));
  const answer = {
    data: {
      rows: [
        { status: 'RELEASED', n: 1 },
        { status: 'PLANNED', n: 2 },
      ],
    },
  };
  assert.deepEqual(await select(config.items!, answer), { status: 'RELEASED', n: 1 });
  assert.equal(await select(config.cursor!.from, { audit: { updatedAt: 'T1' } }), 'T1');
  assert.equal(await select(config.cursor!.from, { audit: null }), undefined);

  const basic = compile({ type: 'production.order.released', auth: { username: 'erp', password: 'pw' } });
  assert.equal(basic.config.headers.authorization, `Basic ${Buffer.from('erp:pw').toString('base64')}`);
});

test('compile problems are named by key path', () => {
  const { problems } = compile({
    url: 'ftp://erp.example/orders',
    interval: '10ms',
    items: 'rows[',
    cursor: { param: 'after', from: '$$$(' },
    idField: 'id +',
    headers: { Authorization: 'Basic x', 'bad header': 'v', 'X-Line': 'a\r\nb', Host: 'h' },
    auth: { token: 't' },
    reconnect: { initialDelay: '5s', maxDelay: '1s' },
    tls: { ca: 'missing-ca.pem' },
  });
  assert.deepEqual(paths(problems), [
    `${AT}.cursor.from`,
    `${AT}.headers.Host`,
    `${AT}.headers.X-Line`,
    `${AT}.headers.authorization`,
    `${AT}.headers.bad header`,
    `${AT}.idField`,
    `${AT}.interval`,
    `${AT}.items`,
    `${AT}.reconnect.maxDelay`,
    `${AT}.tls.ca`,
    `${AT}.type`,
    `${AT}.url`,
  ]);
  const byPath = new Map(problems.map((p) => [p.path, p.message]));
  assert.match(byPath.get(`${AT}.url`) ?? '', /not an http\(s\) URL/);
  assert.match(byPath.get(`${AT}.items`) ?? '', /invalid JSONata at position/);
  assert.match(byPath.get(`${AT}.type`) ?? '', /give type .* or map/);
  assert.match(byPath.get(`${AT}.tls.ca`) ?? '', /cannot read .*missing-ca\.pem/);

  const http = compile({ url: 'http://user:pw@erp.example/', type: 'production.order.released' });
  assert.deepEqual(paths(http.problems), [`${AT}.url`]);
  assert.match(http.problems[0]?.message ?? '', /credentials in auth/);
});

test('the schema accepts a full config and names what it refuses by key path', () => {
  const full = {
    kind: 'rest-poll',
    url: 'https://erp.example/api/orders',
    interval: '1m',
    items: 'items',
    cursor: { param: 'since', from: 'updatedAt' },
    etag: false,
    idField: 'id',
    headers: { 'x-tenant': 'acme' },
    auth: { username: 'erp', password: 'pw' },
    tls: { rejectUnauthorized: true },
    timeout: '5s',
    reconnect: { initialDelay: '1s', maxDelay: '1m' },
    type: 'production.order.released',
    plant: 'P1',
    pageLimit: 100,
    stateDir: '/var/lib/conveyor/cursors',
  };
  assert.deepEqual(schemaProblems(full), []);
  assert.deepEqual(schemaProblems({ ...full, auth: { token: 't' } }), []);

  const bad = schemaProblems({
    ...full,
    interval: 'often',
    pageLimit: 0,
    pollEvery: '1s',
    cursor: { from: 'updatedAt', field: 'x' },
  });
  const badPaths = new Set(bad.map((p) => p.path));
  for (const path of [`${AT}.interval`, `${AT}.pageLimit`, `${AT}.pollEvery`, `${AT}.cursor.field`])
    assert.ok(badPaths.has(path), `${path} in ${[...badPaths].join(', ')}`);
  assert.match(bad.find((p) => p.path === `${AT}.interval`)?.message ?? '', /a duration such as/);
  assert.ok(schemaProblems({ kind: 'rest-poll' }).some((p) => p.path === `${AT}.url`));
});

test('paging and the (value, id) cursor compile with their defaults', () => {
  const { config, problems } = compile({
    type: 'production.order.released',
    cursor: { from: 'updatedAt', idParam: 'sinceId' },
    paging: { kind: 'keyset', limit: 200 },
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(
    { ...config.cursor, from: config.cursor?.from.text, idField: config.cursor?.idField.text },
    { from: 'updatedAt', idField: 'id', param: 'since', idParam: 'sinceId', filter: null, inclusive: true },
  );
  assert.equal(config.cursor?.idField, config.idField, 'the tie-breaking id is the row id unless set');
  assert.deepEqual(config.paging, { kind: 'keyset', limitParam: null, limit: 200 });

  const odata = compile({
    type: 'production.order.released',
    cursor: {
      from: 'LastChangeDateTime',
      idField: 'ManufacturingOrder',
      filter: "LastChangeDateTime ge datetimeoffset'{value}'",
    },
    paging: { kind: 'next-link', path: '@odata.nextLink' },
  });
  assert.deepEqual(odata.problems, []);
  assert.equal(odata.config.cursor?.param, '$filter', 'a filter goes in $filter unless param says');
  assert.equal(odata.config.cursor?.idField.text, 'ManufacturingOrder');
  const path = odata.config.paging.kind === 'next-link' ? odata.config.paging.path : null;
  assert.deepEqual(path, { kind: 'path', text: '@odata.nextLink', path: ['@odata.nextLink'] });

  const v2 = compile({ type: 'production.order.released', paging: { kind: 'next-link', path: 'd.__next' } });
  const v2Path = v2.config.paging.kind === 'next-link' ? v2.config.paging.path : null;
  assert.deepEqual(v2Path?.kind === 'path' ? v2Path.path : null, ['d', '__next']);
  assert.deepEqual(compile({ type: 'x.y', paging: { kind: 'offset', limit: 100 } }).config.paging, {
    kind: 'offset',
    offsetParam: 'offset',
    limitParam: 'limit',
    limit: 100,
    maxPages: 1000,
  });
  assert.deepEqual(compile({ type: 'x.y', paging: { kind: 'page', size: 50 } }).config.paging, {
    kind: 'page',
    pageParam: 'page',
    sizeParam: 'size',
    size: 50,
    firstPage: 1,
    maxPages: 1000,
  });
});

test('paging and cursor combinations that would lose or stall rows are refused, by key path', () => {
  const type = 'production.order.released';
  const noCursor = compile({ type, paging: { kind: 'keyset', limit: 10 } });
  assert.deepEqual(paths(noCursor.problems), [`${AT}.paging`]);
  assert.match(noCursor.problems[0]?.message ?? '', /needs a cursor; set cursor\.from/);

  const exclusive = compile({
    type,
    cursor: { from: 'updatedAt', inclusive: false },
    paging: { kind: 'keyset', limit: 10 },
  });
  assert.deepEqual(paths(exclusive.problems), [`${AT}.cursor.inclusive`]);
  assert.match(exclusive.problems[0]?.message ?? '', /set cursor\.idParam/);
  const tieBroken = compile({
    type,
    cursor: { from: 'updatedAt', inclusive: false, idParam: 'afterId' },
    paging: { kind: 'keyset', limit: 10 },
  });
  assert.deepEqual(tieBroken.problems, []);

  const filter = compile({ type, cursor: { from: 'updatedAt', filter: 'changed gt {id}', idParam: 'x' } });
  assert.deepEqual(paths(filter.problems), [`${AT}.cursor.filter`, `${AT}.cursor.idParam`]);

  const badPath = compile({ type, paging: { kind: 'next-link', path: 'links[' } });
  assert.deepEqual(paths(badPath.problems), [`${AT}.paging.path`]);

  // One schema object for every kind: compile says which keys the chosen kind takes.
  const mixed = compile({ type, paging: { kind: 'offset', pageParam: 'p' } });
  assert.deepEqual(
    mixed.problems.map((p) => [p.path, p.message]),
    [
      [
        `${AT}.paging.pageParam`,
        'not a key of paging kind offset; its keys: offsetParam, limitParam, limit, maxPages',
      ],
      [`${AT}.paging.limit`, 'is required for paging kind offset'],
    ],
  );
  assert.deepEqual(mixed.config.paging, { kind: 'none' });
});

test('the schema names a paging problem by the key path of its kind', () => {
  const base = {
    kind: 'rest-poll',
    url: 'https://erp.example/api/orders',
    type: 'production.order.released',
  };
  for (const paging of [
    { kind: 'next-link', path: '@odata.nextLink' },
    { kind: 'link-header', maxPages: 50 },
    { kind: 'offset', offsetParam: 'skip', limitParam: 'take', limit: 100 },
    { kind: 'page', pageParam: 'p', sizeParam: 'n', size: 100, firstPage: 0 },
    { kind: 'odata', top: 1000 },
    { kind: 'keyset', limitParam: 'limit', limit: 100 },
  ])
    assert.deepEqual(schemaProblems({ ...base, paging }), [], JSON.stringify(paging));
  assert.deepEqual(
    schemaProblems({ ...base, paging: { kind: 'pages' } }).map((p) => [p.path, p.message]),
    [[`${AT}.paging.kind`, 'must be next-link, link-header, offset, page, odata, keyset']],
  );
  const unknown = schemaProblems({
    ...base,
    cursor: { from: 'updatedAt', idParam: '', inclusive: 'yes' },
  });
  const unknownPaths = new Set(unknown.map((p) => p.path));
  for (const path of [`${AT}.cursor.idParam`, `${AT}.cursor.inclusive`])
    assert.ok(unknownPaths.has(path), `${path} in ${[...unknownPaths].join(', ')}`);
});
