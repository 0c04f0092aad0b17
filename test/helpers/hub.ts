import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfigFromObject } from '../../src/config/index.js';
import { createHub, type Hub, type HubOptions } from '../../src/hub.js';
import { createLogger } from '../../src/observability/logger.js';

export const ADMIN_KEY = 'cvy_test-admin-key-0123456789abcdefghijklmnopqrstuv';

/** Captures log lines so tests can assert what was (and was not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }
}

/** A hub on a fresh temp data dir, port 0, admin key ADMIN_KEY. Not listening until `listen()`. */
export async function createTestHub(
  raw: Record<string, unknown> = {},
  logs = new LogCapture(),
  options: Partial<HubOptions> = {},
): Promise<Hub & { logs: LogCapture; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-hub-'));
  const config = loadConfigFromObject({ server: { port: 0 }, ...raw }, { dataDir });
  const hub = await createHub(config, {
    logger: createLogger('info', logs),
    adminKey: ADMIN_KEY,
    ...options,
    processMetrics: false,
  });
  await hub.app.ready();
  return Object.assign(hub, { logs, dataDir });
}

export const auth = (key = ADMIN_KEY) => ({ authorization: `Bearer ${key}` });
