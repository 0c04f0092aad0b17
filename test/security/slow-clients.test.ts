/**
 * OWASP API4:2023 again, at the connection level: a client that trickles its headers (slowloris) is
 * cut off after `server.headersTimeout`, and one address cannot hold more than
 * `server.maxConnectionsPerAddress` connections while other addresses are still served.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { Hub } from '../../src/hub.js';
import { createTestHub } from '../helpers/hub.js';

let hub: Hub;
let port: number;

before(async () => {
  hub = await createTestHub({
    server: { port: 0, headersTimeout: '1s', requestTimeout: '2s', maxConnectionsPerAddress: 4 },
  });
  port = Number(new URL(await hub.listen()).port);
});
after(() => hub.close());

/** A socket to the hub from `localAddress` (any 127.0.0.0/8 address is this machine). */
function open(localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with how long the socket stayed open once the server closed it, or rejects after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed || socket.readableEnded) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/** One GET over a fresh socket from `localAddress`: the status line, or the error. */
async function get(path: string, localAddress = '127.0.0.1'): Promise<string> {
  const socket = await open(localAddress);
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('error', (error) => resolve(`error ${error.message}`));
    socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

test('a client that sends one header line every 200 ms is disconnected after the 1 s header timeout', async () => {
  const socket = await open();
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  let line = 0;
  const trickle = setInterval(() => {
    if (!socket.destroyed) socket.write(`X-Slow-${line++}: ${'a'.repeat(10)}\r\n`);
  }, 200);
  try {
    const ms = await closedWithin(socket, 5_000);
    assert.ok(ms >= 900, `closed after ${ms} ms, before the header timeout`);
  } finally {
    clearInterval(trickle);
    socket.destroy();
  }
  assert.equal(await get('/healthz'), 'HTTP/1.1 200 OK');
});

test('a client that connects and sends nothing is disconnected too', async () => {
  const socket = await open();
  try {
    await closedWithin(socket, 5_000);
  } finally {
    socket.destroy();
  }
});

test('connections over the per-address cap are closed at once; other addresses are served', async () => {
  const held: Socket[] = [];
  try {
    for (let i = 0; i < 4; i++) held.push(await open());
    const over = await open();
    await closedWithin(over, 1_000);
    assert.equal(await get('/healthz', '127.0.0.2'), 'HTTP/1.1 200 OK');
    // One of the four goes away: the address may connect again.
    const freed = held.pop() as Socket;
    freed.destroy();
    await closedWithin(freed, 1_000);
    const deadline = Date.now() + 2_000;
    let status = await get('/healthz');
    while (status !== 'HTTP/1.1 200 OK' && Date.now() < deadline) status = await get('/healthz');
    assert.equal(status, 'HTTP/1.1 200 OK');
  } finally {
    for (const socket of held) socket.destroy();
  }
});
