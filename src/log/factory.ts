import type { Config } from '../config/index.js';
import { JetStreamEventLog } from './jetstream/jetstream-event-log.js';
import type { EventLog } from './port.js';
import { SqliteEventLog } from './sqlite/sqlite-event-log.js';

/** Opens the event log the configuration names. */
export async function openEventLog(config: Config): Promise<EventLog> {
  const log = config.log;
  switch (log.kind) {
    case 'sqlite':
      return SqliteEventLog.open({ path: log.path, synchronous: log.synchronous });
    case 'jetstream':
      return JetStreamEventLog.open({ servers: log.servers, replicas: log.replicas, stream: log.stream });
  }
}
