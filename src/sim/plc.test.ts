import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { AttributeIds, type ClientSession, OPCUAClient } from 'node-opcua-client';
import { SimulatedPlc } from './plc.js';

const plc = new SimulatedPlc({ machines: ['Press7', 'Press8'] });
let pkiDir = '';

before(async () => {
  pkiDir = await mkdtemp(join(tmpdir(), 'conveyor-plc-test-'));
  await plc.start();
});

after(async () => {
  await plc.close();
  await rm(pkiDir, { recursive: true, force: true });
});

/** Opens an anonymous session, runs `work` and closes everything again. */
async function withSession<T>(work: (session: ClientSession) => Promise<T>): Promise<T> {
  const client = OPCUAClient.create({
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: pkiDir }),
  });
  await client.connect(plc.endpointUrl);
  try {
    const session = await client.createSession();
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  } finally {
    await client.disconnect();
  }
}

const read = (session: ClientSession, nodeId: string) =>
  session.read({ nodeId, attributeId: AttributeIds.Value });

/** Whether a TCP connection to the PLC's port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const portOf = (url: string) => Number(new URL(url).port);

async function until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
}

test('serves the machine model on a random port, with values a client can read', async () => {
  assert.match(plc.endpointUrl, /^opc\.tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(portOf(plc.endpointUrl), 0);
  plc.setState('Press7', 'down', 'Die change');
  plc.addGood('Press7', 41);
  plc.addGood('Press7');
  await withSession(async (session) => {
    const state = await read(session, 'ns=1;s=Press7.State');
    assert.equal(state.value.value, 'down');
    assert.equal((await read(session, plc.nodeId('Press7', 'DowntimeReason'))).value.value, 'Die change');
    assert.equal((await read(session, plc.nodeId('Press7', 'GoodCount'))).value.value, 42);
    assert.equal((await read(session, plc.nodeId('Press8', 'ScrapCount'))).value.value, 0);
    const name = await session.read({
      nodeId: 'ns=1;s=Press7.GoodCount',
      attributeId: AttributeIds.BrowseName,
    });
    assert.equal((name.value.value as { name: string }).name, 'GoodCount');
  });
  assert.throws(() => plc.set('Press7', 'GoodCount', -1), /takes UInt32/);
  assert.throws(() => plc.set('Press9', 'State', 'running'), /no machine Press9/);
});

test('a restart keeps the port and the values with their source timestamps', async () => {
  plc.set('Press8', 'GoodCount', 7);
  const port = portOf(plc.endpointUrl);
  const before = await withSession((session) => read(session, plc.nodeId('Press8', 'GoodCount')));
  await plc.restart();
  assert.equal(portOf(plc.endpointUrl), port);
  const afterRestart = await withSession((session) => read(session, plc.nodeId('Press8', 'GoodCount')));
  assert.equal(afterRestart.value.value, 7);
  assert.equal(afterRestart.sourceTimestamp?.getTime(), before.sourceTimestamp?.getTime());
  assert.equal(plc.sessionCount, 0, 'the sessions closed');
});

test('a network outage refuses connections for its duration', async () => {
  const port = portOf(plc.endpointUrl);
  const outage = plc.dropNetwork(300);
  await assert.rejects(plc.dropNetwork(300), /already down/);
  let refused = false;
  for (let i = 0; i < 50 && !refused; i++) refused = !(await accepts(port));
  assert.ok(refused, 'connections are refused during the outage');
  await outage;
  assert.ok(await accepts(port), 'accepted again after it');
});

test('the cycle timer makes parts while running and moves through the states', async () => {
  const pressed = new SimulatedPlc({ machines: ['Press7'], uninitialized: true });
  assert.equal(pressed.get('Press7', 'GoodCount'), null, 'no value before the first write');
  pressed.setState('Press7', 'running');
  pressed.startCycle({ intervalMs: 10, stateEvery: 5, scrapEvery: 3 });
  try {
    const seen = new Set<unknown>();
    await until(() => {
      seen.add(pressed.get('Press7', 'State'));
      return seen.size >= 3 && Number(pressed.get('Press7', 'ScrapCount') ?? 0) > 0;
    }, 'three states and scrap');
    assert.ok(Number(pressed.get('Press7', 'GoodCount')) > 0);
    for (const state of seen) assert.ok(['running', 'idle', 'down', 'setup'].includes(String(state)));
  } finally {
    pressed.stopCycle();
  }
});
