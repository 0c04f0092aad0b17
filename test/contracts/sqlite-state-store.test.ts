import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SqliteStateStore } from '../../src/store/sqlite/sqlite-state-store.js';
import { type StateStoreHarness, stateStoreContract } from './state-store-contract.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let path = '';
const harness: StateStoreHarness = {
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-state-'));
    dirs.push(dir);
    path = join(dir, 'state.db');
    return SqliteStateStore.open(path);
  },
  async reopen() {
    return SqliteStateStore.open(path);
  },
};

stateStoreContract('sqlite', harness);
