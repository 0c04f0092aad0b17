import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { ADMIN_KEY } from '../helpers/hub.js';
import { type HubProcess, startHubProcess } from '../helpers/hub-process.js';
import { ScriptedServer } from '../helpers/scripted-server.js';

const RESERVATION = { plant: 'P1', material: 'RM-STEEL', quantity: { value: 5, uom: 'KG' } };

function reserve(url: string, key: string) {
  return request(`${url}/v1/inventory/reservations`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify(RESERVATION),
  });
}

/**
 * A hub whose WMS holds the first reservation forever: the hub is killed with SIGKILL while that
 * request holds its Idempotency-Key, then restarted on the same data, and the WMS answers again.
 */
async function crashMidRequest(key: string, env: Record<string, string>, restartEnv: Record<string, string>) {
  const wms = new ScriptedServer();
  await wms.listen();
  // The first request never gets an answer; later ones are booked.
  wms.reply = () =>
    wms.requests.length === 1
      ? new Promise(() => undefined)
      : { status: 201, body: { reservationId: `R-${wms.requests.length}`, bin: 'A-01' } };
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-idem-crash-'));
  const configFile = join(dir, 'conveyor.yaml');
  writeFileSync(
    configFile,
    [
      'server: { port: 0 }',
      'connectors:',
      `  wms: { kind: http, baseUrl: "${wms.url}/wms", timeout: 60s }`,
      'commands:',
      '  inventory-reservation: { connector: wms, path: /reservations }',
    ].join('\n'),
  );
  const args = ['start', '--config', configFile, '--data', join(dir, 'data')];
  let hub: HubProcess | null = await startHubProcess(args, { CONVEYOR_ADMIN_KEY: ADMIN_KEY, ...env });
  try {
    const first = reserve(hub.url, key).catch((error: Error) => error);
    await wms.received(1); // the claim is held and the command is waiting on the WMS
    const exit = await hub.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok((await first) instanceof Error, 'the first request died with its hub');
    hub = await startHubProcess(args, { CONVEYOR_ADMIN_KEY: ADMIN_KEY, ...restartEnv });
    return {
      hub,
      wms,
      async close() {
        await hub?.stop('SIGTERM');
        await wms.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await hub?.stop('SIGKILL').catch(() => undefined);
    await wms.close();
    throw error;
  }
}

test('a hub restarted under the same instance id runs a key its killed predecessor held, at once', {
  timeout: 60_000,
}, async () => {
  const run = await crashMidRequest(
    'resv-crash-1',
    { CONVEYOR_INSTANCE_ID: 'hub-a' },
    {
      CONVEYOR_INSTANCE_ID: 'hub-a',
    },
  );
  try {
    const res = await reserve(run.hub.url, 'resv-crash-1');
    const body = await res.body.text();
    assert.equal(res.statusCode, 201, `the retry runs now, not in 5 minutes: ${body}`);
    assert.equal(res.headers['idempotent-replayed'], undefined);
    assert.equal(run.wms.requests.length, 2, 'the WMS was asked again');
    const replay = await reserve(run.hub.url, 'resv-crash-1');
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(await replay.body.text(), body);
  } finally {
    await run.close();
  }
});

test('a key held by a killed hub under another instance id is free once its heartbeat lapses; Retry-After says when', {
  timeout: 60_000,
}, async () => {
  const run = await crashMidRequest('resv-crash-2', {}, {});
  try {
    const deadline = Date.now() + 15_000;
    let res = await reserve(run.hub.url, 'resv-crash-2');
    while (res.statusCode === 409 && Date.now() < deadline) {
      const problem = (await res.body.json()) as { code: string };
      assert.equal(problem.code, 'request-in-progress');
      const retryAfter = Number(res.headers['retry-after']);
      // The killed hub's heartbeat lease lasts 6 s from its last renewal.
      assert.ok(retryAfter >= 1 && retryAfter <= 6, `Retry-After ${retryAfter} is the real wait`);
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      res = await reserve(run.hub.url, 'resv-crash-2');
    }
    assert.equal(res.statusCode, 201, await res.body.text());
    assert.equal(run.wms.requests.length, 2, 'the WMS was asked again');
  } finally {
    await run.close();
  }
});
