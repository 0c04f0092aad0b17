import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventLog } from '../../src/log/port.js';
import { SqliteEventLog } from '../../src/log/sqlite/sqlite-event-log.js';
import { type EventLogHarness, eventLogContract } from './event-log-contract.js';

/** A harness for logs in fresh directories; `partitionSize` is fixed when the log is created. */
function harness(partitionSize?: number, scanWindow?: number): EventLogHarness {
  let dir = '';
  const openAt = (): Promise<EventLog> =>
    SqliteEventLog.open({
      path: join(dir, 'events.db'),
      ...(partitionSize ? { partitionSize } : {}),
      ...(scanWindow ? { scanWindow } : {}),
    });
  return {
    async open() {
      dir = mkdtempSync(join(tmpdir(), 'conveyor-log-'));
      return openAt();
    },
    reopen: openAt,
    childConfig: () => ({ config: { log: { kind: 'sqlite', path: join(dir, 'events.db') } }, dataDir: dir }),
  };
}

eventLogContract('sqlite', harness());
// Index partitions of 16 sequences: every test crosses partition boundaries, so idempotency,
// subject reads and crash recovery are checked across sealed partitions too. Read windows of 64
// sequences: reads stop short of their limit all the time, so paging by `through` is exercised.
eventLogContract('sqlite, 16-sequence index partitions, 64-sequence read windows', harness(16, 64));
