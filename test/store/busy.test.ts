import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreBusyError } from '../../src/shared/errors.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

// A write that cannot get the store's lock within the busy timeout (another process holds
// it) fails as StoreBusyError, one line that says to try again, and writes nothing.

describe('a store locked by another connection past the busy timeout', () => {
  it('refuses the write with StoreBusyError, writes nothing, and takes the same write once the lock is gone', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'trig-store-busy-')), 'state');
    openSqliteStore(dir).close();
    const store = openSqliteStore(dir, { busyTimeoutMs: 200 });
    const holder = new Database(path.join(dir, 'trig.db'));
    const admit = () =>
      store.admitEvent({ name: 'push', source: 'cli', at: new Date(), places: ['/defs'], payload: {}, deliveryKey: 'd1' });
    try {
      holder.exec('BEGIN IMMEDIATE');
      const refused = await Promise.resolve()
        .then(admit)
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(StoreBusyError);
      expect((refused as Error).message).toBe(
        `the store ${path.join(dir, 'trig.db')} stayed locked by another process for more than 0.2 s; nothing was written: try again`,
      );
      holder.exec('ROLLBACK');
      expect(await store.listEvents({})).toEqual([]);
      expect(await admit()).toMatchObject({ duplicate: false });
      expect(await admit()).toMatchObject({ duplicate: true });
    } finally {
      holder.close();
      store.close();
    }
  });
});
