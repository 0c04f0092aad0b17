import type { Config } from '../config/index.js';
import { JetStreamEventLog } from './jetstream/jetstream-event-log.js';
import { PgIdClaims } from './jetstream/pg-id-claims.js';
import type { EventLog } from './port.js';
import { SqliteEventLog } from './sqlite/sqlite-event-log.js';

/** Opens the event log the configuration names. */
export async function openEventLog(config: Config): Promise<EventLog> {
  const log = config.log;
  const store = config.store;
  switch (log.kind) {
    case 'sqlite':
      return SqliteEventLog.open({ path: log.path, synchronous: log.synchronous });
    case 'jetstream':
      return JetStreamEventLog.open({
        servers: log.servers,
        replicas: log.replicas,
        stream: log.stream,
        // With a PostgreSQL state store, a new log keeps its id index there: one statement claims a batch.
        ...(store.kind === 'postgres'
          ? { openIdClaims: (name: string) => PgIdClaims.open(store.url, name) }
          : {}),
      });
  }
}
