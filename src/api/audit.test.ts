import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_KEY, auth, createTestHub } from '../../test/helpers/hub.js';
import type { AuditEntry, AuditRepository } from '../store/port.js';
import { DenialAudit } from './audit.js';

function memoryAudit(): AuditRepository & { entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return {
    entries,
    async record(entry) {
      entries.push(entry);
    },
    async list() {
      return entries.map((e, i) => ({ ...e, position: i + 1 }));
    },
  };
}

test('refused credentials are counted per address and reason, one row each per interval', async () => {
  const audit = memoryAudit();
  let now = Date.parse('2026-12-07T10:00:00Z');
  const denials = new DenialAudit(audit, { now: () => now, everyMs: 60_000 });
  for (let i = 0; i < 500; i++) {
    denials.note({ address: '10.0.0.9', reason: 'unknown-key', target: 'POST /v1/events' });
    now += 10;
  }
  denials.note({ address: '10.0.0.7', reason: 'missing-credentials', target: 'GET /v1/dlq' });
  assert.equal(audit.entries.length, 0, 'nothing is written per request');
  await denials.flush();
  assert.deepEqual(
    audit.entries.map((e) => [e.action, e.ip, e.target, e.detail]),
    [
      [
        'auth.denied',
        '10.0.0.9',
        'POST /v1/events',
        {
          address: '10.0.0.9',
          reason: 'unknown-key',
          status: 401,
          count: 500,
          from: '2026-12-07T10:00:00.000Z',
          to: '2026-12-07T10:00:04.990Z',
        },
      ],
      [
        'auth.denied',
        '10.0.0.7',
        'GET /v1/dlq',
        {
          address: '10.0.0.7',
          reason: 'missing-credentials',
          status: 401,
          count: 1,
          from: '2026-12-07T10:00:05.000Z',
          to: '2026-12-07T10:00:05.000Z',
        },
      ],
    ],
  );
  await denials.flush();
  assert.equal(audit.entries.length, 2, 'an empty interval writes nothing');
});

test('addresses past the limit are counted together; a failed write keeps the counts', async () => {
  const failing = memoryAudit();
  let fail = true;
  const audit: AuditRepository = {
    record: async (entry) => {
      if (fail) throw new Error('disk full');
      await failing.record(entry);
    },
    list: failing.list,
  };
  const denials = new DenialAudit(audit, { maxKeys: 2, everyMs: 60_000 });
  for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'])
    denials.note({ address, reason: 'unknown-key', target: 'GET /v1/events' });
  await assert.rejects(denials.flush(), /disk full/);
  fail = false;
  await denials.close();
  assert.deepEqual(
    failing.entries.map((e) => [
      e.ip,
      (e.detail as { address: string }).address,
      (e.detail as { count: number }).count,
    ]),
    [
      ['10.0.0.1', '10.0.0.1', 1],
      ['10.0.0.2', '10.0.0.2', 1],
      [undefined, '(other addresses)', 2],
    ],
  );
});

test('a flood of bad keys costs a few audit writes, and GET /v1/audit shows the counts', async () => {
  const hub = await createTestHub({}, undefined, { denialAuditEveryMs: 60_000 });
  try {
    let writes = 0;
    const record = hub.store.audit.record.bind(hub.store.audit);
    hub.store.audit.record = (entry) => {
      writes++;
      return record(entry);
    };
    const flood = 300;
    for (let i = 0; i < flood; i++) {
      const res = await hub.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: {
          authorization: `Bearer cvy_${'Z'.repeat(43)}`,
          'content-type': 'application/cloudevents+json',
        },
        payload: '{}',
        remoteAddress: '10.9.8.7',
      });
      assert.equal(res.statusCode, 401);
    }
    for (let i = 0; i < 20; i++) {
      const res = await hub.app.inject({ method: 'GET', url: '/v1/dlq', remoteAddress: '10.9.8.6' });
      assert.equal(res.statusCode, 401);
    }
    assert.ok(writes <= 2, `${flood + 20} refused requests made ${writes} audit writes`);

    const trail = await hub.app.inject({
      method: 'GET',
      url: '/v1/audit?action=auth.denied',
      headers: auth(ADMIN_KEY),
    });
    assert.equal(trail.statusCode, 200, trail.body);
    const rows = (
      trail.json().items as Array<{ ip: string; target: string; detail: Record<string, unknown> }>
    ).map((i) => [i.ip, i.target, i.detail.reason, i.detail.count]);
    assert.deepEqual(rows, [
      ['10.9.8.7', 'POST /v1/events', 'unknown-key', flood],
      ['10.9.8.6', 'GET /v1/dlq', 'missing-credentials', 20],
    ]);
    assert.ok(writes <= 4, `${writes} audit writes in all`);
  } finally {
    await hub.close();
  }
});
