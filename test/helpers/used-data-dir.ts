import { closeSync, mkdtempSync, openSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFromObject } from '../../src/config/index.js';
import { createHub } from '../../src/hub.js';
import { createLogger } from '../../src/observability/logger.js';
import { makeEvent } from './events.js';
import { ADMIN_KEY, LogCapture } from './hub.js';

export const EVENTS = 3000;

/** A data dir a hub has run on: events in the log, a consumer, a dead letter in the store. */
export async function usedDataDir(
  dataDir = mkdtempSync(join(tmpdir(), 'conveyor-damaged-')),
): Promise<string> {
  const hub = await startHub(dataDir);
  try {
    const events = Array.from({ length: EVENTS }, () =>
      makeEvent({ type: 'production.order.released', note: 'x'.repeat(300) }),
    );
    for (let i = 0; i < events.length; i += 500) await hub.log.append(events.slice(i, i + 500));
    const consumer = await hub.log.consume('route.mes', {}, { startAt: 0 });
    await consumer.commit(EVENTS - 10);
    consumer.close();
    await hub.store.deadLetters.add({
      id: 'dl-1',
      route: 'mes',
      reason: 'rejected',
      event: { ...makeEvent({ type: 'production.order.released' }), sequence: EVENTS - 5 },
      attempts: [{ at: new Date().toISOString(), status: 422, ms: 3 }],
      at: Date.now(),
      status: 'open',
    });
  } finally {
    await hub.close();
  }
  return dataDir;
}

export function startHub(dataDir: string) {
  const config = loadConfigFromObject({ server: { port: 0 } }, { dataDir });
  return createHub(config, {
    logger: createLogger('info', new LogCapture()),
    adminKey: ADMIN_KEY,
    processMetrics: false,
  });
}

/** Garbage over three pages in the middle of a SQLite file, as a failing disk or a stray write leaves. */
export function overwriteMiddlePages(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    const middle = Math.floor(statSync(path).size / 4096 / 2) * 4096;
    writeSync(fd, Buffer.alloc(3 * 4096, 0x5a), 0, 3 * 4096, middle);
  } finally {
    closeSync(fd);
  }
}
