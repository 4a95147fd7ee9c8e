import { mkdirSync, mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckCache } from '../../src/validate/cache.js';

// Unbuilt, the cache's build id is `dev`.

describe('the check cache folder', () => {
  it('keeps the results of the two other builds that wrote most recently, and removes older ones', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'trig-cache-builds-'));
    const ages = { a: 4, b: 1, c: 3, d: 2 };
    for (const [name, hoursAgo] of Object.entries(ages)) {
      mkdirSync(path.join(root, name));
      const at = new Date(Date.now() - hoursAgo * 3_600_000);
      utimesSync(path.join(root, name), at, at);
    }
    const cache = openCheckCache({ TRIG_CACHE_DIR: root });
    expect(readdirSync(root).sort()).toEqual(['a', 'b', 'c', 'd']);
    await cache.set('def.yaml', 'pipeline: {on: push}\n', { documents: [], skipped: [], syntaxErrors: [] });
    expect(readdirSync(root).sort()).toEqual(['b', 'd', 'dev']);
    expect(await cache.get('def.yaml', 'pipeline: {on: push}\n')).toEqual({ documents: [], skipped: [], syntaxErrors: [] });
  });
});
