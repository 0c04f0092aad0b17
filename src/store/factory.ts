import type { Config } from '../config/index.js';
import type { StateStore } from './port.js';
import { SqliteStateStore } from './sqlite/sqlite-state-store.js';

/** Opens the state store the configuration names. */
export async function openStateStore(config: Config): Promise<StateStore> {
  const store = config.store;
  switch (store.kind) {
    case 'sqlite':
      return SqliteStateStore.open(store.path);
    case 'postgres':
      throw new Error('store.kind postgres is not available in this build; use store.kind sqlite');
  }
}
