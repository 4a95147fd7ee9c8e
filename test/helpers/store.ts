import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';

/** Fresh state folders (named with `prefix`) and stores opened in them, closed after each test of the calling file. */
export function storeOpener(prefix: string): { freshDir(): string; open(dir: string): Store } {
  const opened: Store[] = [];
  afterEach(() => {
    for (const store of opened.splice(0)) store.close();
  });
  return {
    freshDir: () => path.join(mkdtempSync(path.join(os.tmpdir(), prefix)), 'state'),
    open(dir) {
      const store = openSqliteStore(dir);
      opened.push(store);
      return store;
    },
  };
}
