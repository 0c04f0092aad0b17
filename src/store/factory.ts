import type { Config } from '../config/index.js';
import type { StateStore } from './port.js';
import { PostgresStateStore } from './postgres/pg-state-store.js';
import { SqliteStateStore } from './sqlite/sqlite-state-store.js';

/** Opens the state store the configuration names. */
export async function openStateStore(config: Config): Promise<StateStore> {
  const store = config.store;
  switch (store.kind) {
    case 'sqlite':
      return SqliteStateStore.open(store.path);
    case 'postgres':
      return PostgresStateStore.open({ url: store.url });
  }
}
