import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type StateWriteItem, stateCommitter } from './state-writes.js';

/**
 * The state store's writer thread: it commits the frequent writes (milestones, audit rows, dead
 * letters) in batches on a connection of its own, so their fsyncs never stop the event loop.
 */
const { path } = workerData as { path: string };
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
// The main thread's connection writes too (leases, updates); each waits for the other's commit.
db.pragma('busy_timeout = 5000');
const commit = stateCommitter(db);
const port = parentPort as NonNullable<typeof parentPort>;

port.on('message', (message: { id: number; items: StateWriteItem[] } | { close: true }) => {
  if ('close' in message) {
    db.close();
    port.close();
    return;
  }
  port.postMessage({ id: message.id, outcomes: commit(message.items) });
});
