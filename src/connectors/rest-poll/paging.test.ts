import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextFromLinkHeader, odataNextLink, type PageStep, PageWalk, type Paging } from './paging.js';

const START = new URL('https://erp.example/api/orders?since=T1');

/** Walks `paging` over pages of the given row counts (each fresh); the URLs asked, and the last step. */
function walk(paging: Paging, pages: ReadonlyArray<{ rows: number; fresh?: number; link?: string }>) {
  const pageWalk = new PageWalk(paging, START);
  const asked: string[] = [];
  let url = pageWalk.first();
  let step: PageStep = { kind: 'end' };
  for (const page of pages) {
    asked.push(`${url.pathname}${url.search}`);
    step = pageWalk.next({ url, rows: page.rows, fresh: page.fresh ?? page.rows, link: page.link ?? null });
    if (step.kind !== 'next') break;
    url = step.url;
  }
  return { asked, step };
}

test('offset paging asks page after page until a short one, keeping the cursor in the query', () => {
  const paging: Paging = { kind: 'offset', offsetParam: 'skip', limitParam: 'take', limit: 2, maxPages: 10 };
  const { asked, step } = walk(paging, [{ rows: 2 }, { rows: 2 }, { rows: 1 }]);
  assert.deepEqual(asked, [
    '/api/orders?since=T1&skip=0&take=2',
    '/api/orders?since=T1&skip=2&take=2',
    '/api/orders?since=T1&skip=4&take=2',
  ]);
  assert.equal(step.kind, 'end');
  assert.equal(walk(paging, [{ rows: 2 }, { rows: 0 }]).step.kind, 'end', 'an empty page ends it too');
});

test('page paging counts pages from firstPage', () => {
  const paging: Paging = {
    kind: 'page',
    pageParam: 'p',
    sizeParam: 'per_page',
    size: 3,
    firstPage: 0,
    maxPages: 10,
  };
  const { asked, step } = walk(paging, [{ rows: 3 }, { rows: 2 }]);
  assert.deepEqual(asked, ['/api/orders?since=T1&p=0&per_page=3', '/api/orders?since=T1&p=1&per_page=3']);
  assert.equal(step.kind, 'end');
});

test('OData paging follows next links inside a $skip window, then moves $skip by $top', () => {
  const paging: Paging = { kind: 'odata', top: 5, maxPages: 10 };
  const { asked, step } = walk(paging, [
    { rows: 3, link: 'https://erp.example/api/orders?since=T1&$skiptoken=3' },
    { rows: 2 },
    { rows: 4 },
  ]);
  assert.deepEqual(asked, [
    '/api/orders?since=T1&%24skip=0&%24top=5',
    '/api/orders?since=T1&$skiptoken=3',
    '/api/orders?since=T1&%24skip=5&%24top=5',
  ]);
  assert.equal(step.kind, 'end', 'a window of 4 rows < $top is the last');
});

test('next links resolve against the page they came from; no link is the end', () => {
  const paging: Paging = {
    kind: 'next-link',
    path: { kind: 'path', text: '@odata.nextLink', path: ['@odata.nextLink'] },
    maxPages: 10,
  };
  const { asked, step } = walk(paging, [{ rows: 2, link: 'orders?$skiptoken=2' }, { rows: 2 }]);
  assert.deepEqual(asked, ['/api/orders?since=T1', '/api/orders?$skiptoken=2']);
  assert.equal(step.kind, 'end');
});

test('a walk that would go round for ever stops as stalled, saying why', () => {
  const linked: Paging = { kind: 'link-header', maxPages: 10 };
  const loop = walk(linked, [
    { rows: 2, link: '/api/orders?page=2' },
    { rows: 2, link: '/api/orders?page=2' },
  ]);
  assert.equal(loop.step.kind, 'stalled');
  assert.match(loop.step.kind === 'stalled' ? loop.step.reason : '', /next link \/api\/orders\?page=2 again/);

  const offset: Paging = {
    kind: 'offset',
    offsetParam: 'offset',
    limitParam: 'limit',
    limit: 2,
    maxPages: 10,
  };
  const ignored = walk(offset, [{ rows: 2 }, { rows: 2, fresh: 0 }]);
  assert.equal(ignored.step.kind, 'stalled');
  assert.match(
    ignored.step.kind === 'stalled' ? ignored.step.reason : '',
    /page 2 repeated rows of an earlier page \(paging\.offsetParam offset, paging\.limitParam limit\)/,
  );

  const capped = walk({ ...offset, maxPages: 2 }, [{ rows: 2 }, { rows: 2 }, { rows: 2 }]);
  assert.deepEqual(capped.asked.length, 2);
  assert.match(capped.step.kind === 'stalled' ? capped.step.reason : '', /more than 2 pages in one poll/);

  const bad = walk(linked, [{ rows: 1, link: 'http://[broken' }]);
  assert.match(bad.step.kind === 'stalled' ? bad.step.reason : '', /is not a URL/);
});

test('keyset and unpaged polls are one request; keyset sends its limit when it has a parameter', () => {
  const keyset = walk({ kind: 'keyset', limitParam: 'limit', limit: 50 }, [{ rows: 50 }]);
  assert.deepEqual(keyset.asked, ['/api/orders?since=T1&limit=50']);
  assert.equal(keyset.step.kind, 'end');
  assert.deepEqual(walk({ kind: 'none' }, [{ rows: 9, link: '/x' }]).asked, ['/api/orders?since=T1']);
});

test('the rel="next" target of a Link header, however it is written', () => {
  assert.equal(
    nextFromLinkHeader(
      '<https://api.example/o?page=3>; rel="next", <https://api.example/o?page=9>; rel="last"',
    ),
    'https://api.example/o?page=3',
  );
  assert.equal(nextFromLinkHeader('</o?a=1,2>; title="x"; REL=next'), '/o?a=1,2');
  assert.equal(nextFromLinkHeader('</o?p=1>; rel="prev", </o?p=3>; rel="next last"'), '/o?p=3');
  assert.equal(nextFromLinkHeader(['</o?p=1>; rel=first', '</o?p=2>; rel=next']), '/o?p=2');
  assert.equal(nextFromLinkHeader('</o?p=1>; rel="prev"'), null);
  assert.equal(nextFromLinkHeader(undefined), null);
});

test('OData next links: V4 @odata.nextLink, V4.0 odata.nextLink, V2 d.__next', () => {
  assert.equal(odataNextLink({ value: [], '@odata.nextLink': 'a' }), 'a');
  assert.equal(odataNextLink({ value: [], 'odata.nextLink': 'b' }), 'b');
  assert.equal(odataNextLink({ d: { results: [], __next: 'c' } }), 'c');
  assert.equal(odataNextLink({ d: { results: [] } }), null);
  assert.equal(odataNextLink([1, 2]), null);
});
