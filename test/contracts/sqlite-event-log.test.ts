import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventLog } from '../../src/log/port.js';
import { SqliteEventLog } from '../../src/log/sqlite/sqlite-event-log.js';
import { eventLogContract } from './event-log-contract.js';

let dir = '';
const openAt = (): Promise<EventLog> => SqliteEventLog.open({ path: join(dir, 'events.db') });

eventLogContract('sqlite', {
  async open() {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-log-'));
    return openAt();
  },
  reopen: openAt,
  childConfig: () => ({ config: { log: { kind: 'sqlite', path: join(dir, 'events.db') } }, dataDir: dir }),
});
