import type { Config } from '../config/index.js';
import type { EventLog } from './port.js';

/**
 * Opens the event log the configuration names. Each backend is imported only when chosen, so a hub
 * on the embedded log never loads the NATS client (and one on JetStream never loads SQLite's log).
 */
export async function openEventLog(config: Config): Promise<EventLog> {
  const log = config.log;
  const store = config.store;
  switch (log.kind) {
    case 'sqlite': {
      const { SqliteEventLog } = await import('./sqlite/sqlite-event-log.js');
      return SqliteEventLog.open({ path: log.path, synchronous: log.synchronous });
    }
    case 'jetstream': {
      const { JetStreamEventLog } = await import('./jetstream/jetstream-event-log.js');
      const pgClaims = store.kind === 'postgres' ? await import('./jetstream/pg-id-claims.js') : null;
      return JetStreamEventLog.open({
        servers: log.servers,
        replicas: log.replicas,
        stream: log.stream,
        // With a PostgreSQL state store, a new log keeps its id index there: one statement claims a batch.
        ...(pgClaims && store.kind === 'postgres'
          ? { openIdClaims: (name: string) => pgClaims.PgIdClaims.open(store.url, name) }
          : {}),
      });
    }
  }
}
