import type { Config } from '../config/index.js';
import type { StateStore } from './port.js';

/** Opens the state store the configuration names; the PostgreSQL client is imported only when chosen. */
export async function openStateStore(config: Config): Promise<StateStore> {
  const store = config.store;
  switch (store.kind) {
    case 'sqlite': {
      const { SqliteStateStore } = await import('./sqlite/sqlite-state-store.js');
      return SqliteStateStore.open(store.path);
    }
    case 'postgres': {
      const { PostgresStateStore } = await import('./postgres/pg-state-store.js');
      return PostgresStateStore.open({ url: store.url });
    }
  }
}
