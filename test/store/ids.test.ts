import { describe, expect, it } from 'vitest';
import { newEventId, runIdOf } from '../../src/store/ids.js';

describe('newEventId', () => {
  it('gives 12 hex digits, never the same twice, across many draws of its random pool', () => {
    // 4096 random bytes a pool: 10,000 ids cross some 15 pools.
    const ids = Array.from({ length: 10_000 }, () => newEventId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('runIdOf', () => {
  it('is the start of the SHA-256 of the key: the same key, the same id', () => {
    expect(runIdOf('key')).toBe('2c70e12b7a06');
    expect(runIdOf('key')).toBe(runIdOf('key'));
    expect(runIdOf('key2')).not.toBe(runIdOf('key'));
  });
});
